package trace

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// Trace is one editing trace.
type Trace struct {
	Kind         string `json:"kind"` // "concurrent", or empty for sequential
	NumAgents    int    `json:"numAgents"`
	StartContent string `json:"startContent"`
	EndContent   string `json:"endContent"`
	Txns         []Txn  `json:"txns"`
}

// Txn is one transaction: patches applied in order by one agent.
type Txn struct {
	Agent   int     `json:"agent"`
	Parents []int   `json:"parents"`
	Patches []Patch `json:"patches"`
}

// Patch deletes Del code points at Pos, then inserts Ins there.
type Patch struct {
	Pos, Del int
	Ins      string
}

// UnmarshalJSON reads the [pos, del, ins] form.
func (p *Patch) UnmarshalJSON(b []byte) error {
	var raw [3]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if err := json.Unmarshal(raw[0], &p.Pos); err != nil {
		return err
	}
	if err := json.Unmarshal(raw[1], &p.Del); err != nil {
		return err
	}
	return json.Unmarshal(raw[2], &p.Ins)
}

// Concurrent reports whether the trace has agents and parents.
func (t *Trace) Concurrent() bool { return t.Kind == "concurrent" }

// Load reads a trace file, gzipped if its name ends in .gz.
func Load(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		z, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("trace %s: %w", path, err)
		}
		defer z.Close()
		r = z
	}
	t, err := Read(r)
	if err != nil {
		return nil, fmt.Errorf("trace %s: %w", path, err)
	}
	return t, nil
}

// Read decodes a trace from uncompressed JSON and checks its shape.
func Read(r io.Reader) (*Trace, error) {
	var t Trace
	if err := json.NewDecoder(r).Decode(&t); err != nil {
		return nil, err
	}
	t.pack()
	if t.Concurrent() {
		if t.StartContent != "" {
			return nil, fmt.Errorf("concurrent trace with startContent is not supported")
		}
		for i, x := range t.Txns {
			if x.Agent < 0 || x.Agent >= t.NumAgents {
				return nil, fmt.Errorf("txn %d: agent %d outside [0, %d)", i, x.Agent, t.NumAgents)
			}
			for _, p := range x.Parents {
				if p < 0 || p >= i {
					return nil, fmt.Errorf("txn %d: parent %d is not an earlier txn", i, p)
				}
			}
		}
	}
	return &t, nil
}

// pack moves every transaction's parents, patches and inserted text into
// three shared arrays. Decoded as is, a trace is ~700,000 small heap objects
// (automerge-paper), which every garbage collection during a benchmark
// marks: the replays were being charged for collecting the test fixture.
func (t *Trace) pack() {
	var nParents, nPatches, nBytes int
	for i := range t.Txns {
		x := &t.Txns[i]
		nParents += len(x.Parents)
		nPatches += len(x.Patches)
		for _, p := range x.Patches {
			nBytes += len(p.Ins)
		}
	}
	parents := make([]int, 0, nParents)
	patches := make([]Patch, 0, nPatches)
	var b strings.Builder
	b.Grow(nBytes)
	for i := range t.Txns {
		for _, p := range t.Txns[i].Patches {
			b.WriteString(p.Ins)
		}
	}
	text, off := b.String(), 0
	for i := range t.Txns {
		x := &t.Txns[i]
		if x.Parents != nil {
			j := len(parents)
			parents = append(parents, x.Parents...)
			x.Parents = parents[j:len(parents):len(parents)]
		}
		if x.Patches != nil {
			j := len(patches)
			for _, p := range x.Patches {
				p.Ins, off = text[off:off+len(p.Ins)], off+len(p.Ins)
				patches = append(patches, p)
			}
			x.Patches = patches[j:len(patches):len(patches)]
		}
	}
}

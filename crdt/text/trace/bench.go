package trace

import (
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/hearsay-mesh/hearsay/crdt/text"
)

// Result holds the figures BenchTrace measures.
type Result struct {
	Path       string
	Concurrent bool
	Txns       int
	FinalLen   int  // visible code points at the end
	Checked    bool // the format promises endContent (sequential) and it was compared
	MatchesEnd bool // the final text equals endContent

	Local  time.Duration // replaying the edits as local edits (all replicas, merges included)
	Remote time.Duration // applying the same edits' deltas to a fresh replica
	Load   time.Duration // Decode of the encoded document

	HeapBefore, HeapAfter uint64 // runtime HeapInuse after GC, before and after a replay
	Encoded               int    // bytes of Doc.Encode
}

// Held is the heap the replayed document holds.
func (r Result) Held() int64 { return int64(r.HeapAfter) - int64(r.HeapBefore) }

// BenchTrace replays the trace file at path and writes a report to w. It
// fails if a sequential trace does not end at its endContent, or if the
// replicas of a concurrent one do not converge.
func BenchTrace(path string, w io.Writer) (Result, error) {
	tr, err := Load(path)
	if err != nil {
		return Result{}, err
	}
	res := Result{Path: path, Concurrent: tr.Concurrent(), Txns: len(tr.Txns)}
	var doc *text.Doc
	var deltas []text.Delta
	runtime.GC() // do not charge the loader's garbage to the replay
	start := time.Now()
	if tr.Concurrent() {
		c, err := ReplayConcurrent(tr, nil)
		if err != nil {
			return res, err
		}
		res.Local = time.Since(start)
		for i, d := range c.Replicas {
			if d.Text() != c.Replicas[0].Text() {
				return res, fmt.Errorf("replica %d diverged from replica 0", i)
			}
		}
		doc, deltas = c.Replicas[0], c.Deltas
	} else {
		doc, deltas, err = ReplaySequential(tr, true)
		if err != nil {
			return res, err
		}
		res.Local = time.Since(start)
	}
	res.FinalLen = doc.Len()
	res.MatchesEnd = doc.Text() == tr.EndContent
	res.Checked = !tr.Concurrent()
	if res.Checked && !res.MatchesEnd {
		return res, fmt.Errorf("replay of %s does not end at endContent", path)
	}

	runtime.GC()
	start = time.Now()
	remote, err := ApplyRemote(deltas)
	res.Remote = time.Since(start)
	if err != nil {
		return res, err
	}
	if remote.Text() != doc.Text() {
		return res, fmt.Errorf("remote replica differs from the local one")
	}

	enc := doc.Encode()
	res.Encoded = len(enc)
	start = time.Now()
	loaded, err := text.Decode(enc, "loader")
	res.Load = time.Since(start)
	if err != nil {
		return res, err
	}
	if loaded.Text() != doc.Text() {
		return res, fmt.Errorf("decoded document differs")
	}

	// Memory: a replay that keeps no deltas, measured with the heap settled.
	doc, remote, loaded, deltas, enc = nil, nil, nil, nil, nil
	res.HeapBefore = heapInUse()
	if tr.Concurrent() {
		c, err := ReplayConcurrent(tr, nil)
		if err != nil {
			return res, err
		}
		c.Deltas = nil
		c.Replicas = c.Replicas[:1]
		res.HeapAfter = heapInUse()
		runtime.KeepAlive(c)
	} else {
		d, _, err := ReplaySequential(tr, false)
		if err != nil {
			return res, err
		}
		res.HeapAfter = heapInUse()
		runtime.KeepAlive(d)
	}
	runtime.KeepAlive(tr)
	res.Write(w)
	return res, nil
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// Write prints the result as aligned lines.
func (r Result) Write(w io.Writer) {
	kind := "sequential"
	if r.Concurrent {
		kind = "concurrent"
	}
	check := "not promised by the format"
	if r.Checked || r.MatchesEnd {
		check = fmt.Sprintf("%v", r.MatchesEnd)
	}
	fmt.Fprintf(w, "trace          %s (%s, %d txns)\n", r.Path, kind, r.Txns)
	fmt.Fprintf(w, "final length   %d code points; equals endContent: %s\n", r.FinalLen, check)
	fmt.Fprintf(w, "local replay   %v\n", r.Local.Round(time.Microsecond))
	fmt.Fprintf(w, "remote apply   %v\n", r.Remote.Round(time.Microsecond))
	fmt.Fprintf(w, "memory held    %.2f MiB (heap in use after GC: %d -> %d bytes)\n",
		float64(r.Held())/(1<<20), r.HeapBefore, r.HeapAfter)
	fmt.Fprintf(w, "encoded size   %d bytes\n", r.Encoded)
	fmt.Fprintf(w, "load (decode)  %v\n", r.Load.Round(time.Microsecond))
}

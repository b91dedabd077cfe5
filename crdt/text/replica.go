package text

import (
	"errors"
	"strings"
)

// Doc is one replica of a text document. The zero value is not usable: call
// New or Decode.
type Doc struct {
	self    uint32
	agents  []*agent
	byName  map[string]uint32 // lookups only, never iterated
	arena   []*leaf           // by leaf id
	order   []*leaf           // document order
	vis     int               // visible characters
	cache   visCache
	parked  int    // operations waiting for their causal dependencies
	dropped uint64 // parked operations forgotten because the backlog was full
	seqNo   uint64
	hint    cursor // the run last written, tried first by locate
	// delHint is where the last remote delete was found (maybe stale).
	delHint cursor
	typing  typing // where the next local insert would continue that run
	last    uint32 // agent index last looked up by name
	ops     []op   // scratch for Apply

	insBuf []Insert // unused part of the chunk local deltas are carved from
	delBuf []Range
}

// typing says that a local insert at pos would continue the run at d.hint.
type typing struct {
	pos int
	ok  bool
}

// MaxParked bounds the operations a Doc keeps waiting for causal
// dependencies: when a delta would go beyond it, the waiting ones are
// forgotten (Dropped counts them; the next state exchange brings them
// back). Apply returns ErrBacklog only for one delta with more operations
// than that.
const MaxParked = 1 << 20

var (
	// ErrBacklog means too many received operations wait for dependencies.
	ErrBacklog = errors.New("text: too many operations waiting for causal dependencies")
	// ErrAgent means an empty agent name.
	ErrAgent = errors.New("text: agent name must not be empty")
)

// New returns an empty document for the local agent self (a non-empty name
// unique among the replicas that edit this document).
func New(self string) (*Doc, error) {
	if self == "" {
		return nil, ErrAgent
	}
	d := &Doc{byName: map[string]uint32{}}
	d.initTree()
	d.self = d.intern(self)
	return d, nil
}

// Agent is the local agent's name.
func (d *Doc) Agent() string { return d.agents[d.self].name }

// Len is the number of visible characters (code points).
func (d *Doc) Len() int { return d.vis }

// Parked is the number of received operations waiting for dependencies.
func (d *Doc) Parked() int { return d.parked }

// Dropped is how many waiting operations were forgotten because the
// backlog was full (see MaxParked).
func (d *Doc) Dropped() uint64 { return d.dropped }

// Text returns the visible text.
func (d *Doc) Text() string {
	var b strings.Builder
	b.Grow(d.vis)
	for _, l := range d.order {
		for i := range l.runs {
			r := &l.runs[i]
			if !r.del {
				for _, c := range d.agents[r.a].text[r.s : r.s+r.n] {
					b.WriteRune(c)
				}
			}
		}
	}
	return b.String()
}

// Version returns, for each agent the Doc knows, how many of its characters
// it holds, sorted by agent name. Two replicas with equal versions and no
// parked operations hold the same inserts.
func (d *Doc) Version() []ID {
	v := make([]ID, 0, len(d.agents))
	for _, a := range d.agents {
		if a.next() > 0 {
			v = append(v, ID{Agent: a.name, Seq: a.next()})
		}
	}
	sortIDs(v)
	return v
}

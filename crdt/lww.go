package crdt

import "strings"

// LWWRegister is a last-writer-wins register: the write with the greatest
// (timestamp, node, value) wins. Timestamps come from an HLC the caller owns.
// It is a plain state-based lattice; the map uses the causal LWWField.
type LWWRegister struct {
	node  NodeID
	ts    Timestamp
	by    NodeID
	value string
	set   bool
}

// NewLWWRegister returns an unset register whose writes are tagged node.
func NewLWWRegister(node NodeID) *LWWRegister { return &LWWRegister{node: node} }

// Set writes v at ts and returns the delta (the write itself; if the
// register already holds a greater write, the new one loses everywhere). Pass
// ts = clock.Now(phys) from an HLC that has observed the timestamps this
// replica has merged, so a local write supersedes what it has seen.
func (r *LWWRegister) Set(v string, ts Timestamp) *LWWRegister {
	d := &LWWRegister{node: r.node, ts: ts, by: r.node, value: v, set: true}
	if !r.beats(d) {
		*r = LWWRegister{node: r.node, ts: ts, by: r.node, value: v, set: true}
	}
	return d
}

// beats reports whether r's write wins over o's.
func (r *LWWRegister) beats(o *LWWRegister) bool {
	if !r.set || !o.set {
		return r.set
	}
	if c := r.ts.Compare(o.ts); c != 0 {
		return c > 0
	}
	if r.by != o.by {
		return r.by > o.by
	}
	return strings.Compare(r.value, o.value) > 0
}

// Value returns the winning value and whether the register was ever set.
func (r *LWWRegister) Value() (string, bool) { return r.value, r.set }

// Timestamp returns the winning write's timestamp and writer.
func (r *LWWRegister) Timestamp() (Timestamp, NodeID) { return r.ts, r.by }

// Join merges o into r.
func (r *LWWRegister) Join(o *LWWRegister) {
	if o.beats(r) {
		node := r.node
		*r = *o
		r.node = node
	}
}

// Clone returns an independent copy.
func (r *LWWRegister) Clone() *LWWRegister { c := *r; return &c }

// Encode returns the canonical encoding.
func (r *LWWRegister) Encode() []byte {
	w := newWriter()
	if !r.set {
		w.Uvarint(0)
	} else {
		w.Uvarint(1)
		w.Timestamp(r.ts)
		w.Node(r.by)
		w.String(r.value)
	}
	return w.finish(KindLWW)
}

// DecodeLWWRegister decodes a register; node tags its future writes.
func DecodeLWWRegister(b []byte, node NodeID) (*LWWRegister, error) {
	r := openReader(b, KindLWW)
	reg := &LWWRegister{node: node}
	switch r.Uvarint() {
	case 0:
	case 1:
		reg.set = true
		reg.ts = r.Timestamp()
		reg.by = r.Node()
		reg.value = r.String()
	default:
		r.Fail("bad register flag")
	}
	if err := r.close(); err != nil {
		return nil, err
	}
	return reg, nil
}

package crdt

import "slices"

// GCounter is a grow-only counter: one monotonic count per node; the value is
// their sum and join takes the per-node maximum.
type GCounter struct {
	node   NodeID
	counts map[NodeID]uint64
}

// NewGCounter returns an empty counter whose mutators act as node.
func NewGCounter(node NodeID) *GCounter {
	return &GCounter{node: node, counts: map[NodeID]uint64{}}
}

// Inc adds n to node's count and returns the delta (node's new count).
func (g *GCounter) Inc(n uint64) *GCounter {
	if n == 0 {
		return NewGCounter(g.node)
	}
	g.counts[g.node] += n
	d := NewGCounter(g.node)
	d.counts[g.node] = g.counts[g.node]
	return d
}

// Value returns the sum of all nodes' counts (wrapping on overflow).
func (g *GCounter) Value() uint64 {
	var s uint64
	for _, v := range g.counts {
		s += v
	}
	return s
}

// Join merges o into g (per-node maximum).
func (g *GCounter) Join(o *GCounter) {
	for n, v := range o.counts {
		if v > g.counts[n] {
			g.counts[n] = v
		}
	}
}

// Clone returns an independent copy acting as the same node.
func (g *GCounter) Clone() *GCounter {
	c := NewGCounter(g.node)
	for n, v := range g.counts {
		c.counts[n] = v
	}
	return c
}

func (g *GCounter) write(w *Writer) {
	ns := make([]NodeID, 0, len(g.counts))
	for n, v := range g.counts {
		if v > 0 {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	w.Uvarint(uint64(len(ns)))
	for _, n := range ns {
		w.Node(n)
		w.Uvarint(g.counts[n])
	}
}

func readGCounter(r *Reader, node NodeID) *GCounter {
	g := NewGCounter(node)
	n := r.Count(2)
	var prev NodeID
	for i := range n {
		id, v := r.Node(), r.Uvarint()
		if r.err != nil {
			return g
		}
		if v == 0 || (i > 0 && id <= prev) {
			r.Fail("non-canonical counter")
			return g
		}
		prev = id
		g.counts[id] = v
	}
	return g
}

// Encode returns the canonical encoding.
func (g *GCounter) Encode() []byte {
	w := newWriter()
	g.write(w)
	return w.finish(KindGCounter)
}

// DecodeGCounter decodes a GCounter; node is the identity for its mutators.
func DecodeGCounter(b []byte, node NodeID) (*GCounter, error) {
	r := openReader(b, KindGCounter)
	g := readGCounter(r, node)
	if err := r.close(); err != nil {
		return nil, err
	}
	return g, nil
}

// PNCounter is a counter that can go up and down: two G-counters, for
// increments and decrements.
type PNCounter struct {
	p, n *GCounter
}

// NewPNCounter returns a zero counter whose mutators act as node.
func NewPNCounter(node NodeID) *PNCounter {
	return &PNCounter{p: NewGCounter(node), n: NewGCounter(node)}
}

// Add adds by (which may be negative) and returns the delta.
func (c *PNCounter) Add(by int64) *PNCounter {
	d := NewPNCounter(c.p.node)
	switch {
	case by > 0:
		d.p = c.p.Inc(uint64(by))
	case by < 0:
		d.n = c.n.Inc(uint64(-(by + 1)) + 1)
	}
	return d
}

// Value returns increments minus decrements (two's-complement wrapping).
func (c *PNCounter) Value() int64 { return int64(c.p.Value() - c.n.Value()) }

// Join merges o into c.
func (c *PNCounter) Join(o *PNCounter) {
	c.p.Join(o.p)
	c.n.Join(o.n)
}

// Clone returns an independent copy.
func (c *PNCounter) Clone() *PNCounter { return &PNCounter{p: c.p.Clone(), n: c.n.Clone()} }

// Encode returns the canonical encoding.
func (c *PNCounter) Encode() []byte {
	w := newWriter()
	c.p.write(w)
	c.n.write(w)
	return w.finish(KindPNCounter)
}

// DecodePNCounter decodes a PNCounter; node is the identity for its mutators.
func DecodePNCounter(b []byte, node NodeID) (*PNCounter, error) {
	r := openReader(b, KindPNCounter)
	c := &PNCounter{p: readGCounter(r, node), n: readGCounter(r, node)}
	if err := r.close(); err != nil {
		return nil, err
	}
	return c, nil
}

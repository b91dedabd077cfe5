package text

// run is a maximal stretch of characters typed by one agent with consecutive
// seqs, where each character's origin left is the one before it (the first
// character's is left), all share the origin right, and all are either visible
// or deleted.
type run struct {
	a, s, n     uint32
	left, right dot
	del         bool
}

func (r *run) at(off uint32) dot { return dot{a: r.a, s: r.s + off} }

func (r *run) last() dot { return dot{a: r.a, s: r.s + r.n - 1} }

func (r *run) contains(x dot) bool { return x.a == r.a && x.s >= r.s && x.s < r.s+r.n }

// leftOf is the origin left of the character at offset off.
func (r *run) leftOf(off uint32) dot {
	if off == 0 {
		return r.left
	}
	return dot{a: r.a, s: r.s + off - 1}
}

func (r *run) visible() uint32 {
	if r.del {
		return 0
	}
	return r.n
}

// split cuts r before offset off (0 < off < r.n).
func (r run) split(off uint32) (run, run) {
	b := r
	b.s = r.s + off
	b.n = r.n - off
	b.left = dot{a: r.a, s: r.s + off - 1}
	r.n = off
	return r, b
}

// canAppend reports whether b continues a so they can be one run.
func canAppend(a, b *run) bool {
	return a.a == b.a && a.s+a.n == b.s && b.left == a.last() && a.right == b.right && a.del == b.del
}

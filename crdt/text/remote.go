package text

import (
	"fmt"
	"unicode/utf8"
)

// Apply merges a delta from any replica (or from this one). Operations whose
// causal dependencies are missing wait inside the Doc until they arrive;
// operations already held are ignored. An error means the delta was malformed
// (nothing of it is applied) or the backlog of waiting operations is full.
func (d *Doc) Apply(x Delta) error {
	ops := d.ops[:0]
	for i := range x.Inserts {
		o, err := d.checkInsert(&x.Inserts[i])
		if err != nil {
			return err
		}
		ops = append(ops, o)
	}
	for _, r := range x.Deletes {
		if r.ID.IsZero() || r.Len == 0 || uint64(r.ID.Seq)+uint64(r.Len) >= noAgent {
			return fmt.Errorf("text: bad delete range %+v", r)
		}
	}
	if len(ops)+len(x.Deletes) > MaxParked {
		return ErrBacklog
	}
	if d.parked+len(ops)+len(x.Deletes) > MaxParked {
		// Full: forget what waits rather than refuse what comes. Refusing
		// wedged the document for good (a state that would have applied,
		// and drained the backlog, was refused too). What is forgotten is
		// not in Version, so the next state exchange brings it back.
		d.dropParked()
	}
	for i := range x.Inserts {
		ins := &x.Inserts[i]
		ops[i].a = d.intern(ins.ID.Agent)
		ops[i].left = d.toDot(ins.Left)
		ops[i].right = d.toDot(ins.Right)
	}
	for i := range x.Deletes {
		r := &x.Deletes[i]
		ops = append(ops, op{del: true, a: d.intern(r.ID.Agent), s: r.ID.Seq, n: r.Len})
	}
	// Capacity-limited: operations woken from the wait heaps are appended
	// to a new array, so clearing ops[:n] drops every text reference.
	n := len(ops)
	d.runOps(ops[:n:n])
	for i := range ops[:n] {
		ops[i].text = "" // the only reference an op holds
	}
	d.ops = ops[:0]
	return nil
}

func (d *Doc) checkInsert(ins *Insert) (op, error) {
	if ins.ID.IsZero() || !utf8.ValidString(ins.Text) {
		return op{}, fmt.Errorf("text: bad insert %v", ins.ID)
	}
	n := uint64(utf8.RuneCountInString(ins.Text))
	if n == 0 || uint64(ins.ID.Seq)+n >= noAgent {
		return op{}, fmt.Errorf("text: bad insert length at %v", ins.ID)
	}
	for _, o := range [2]*ID{&ins.Left, &ins.Right} {
		if o.Seq >= ins.ID.Seq && o.Agent == ins.ID.Agent {
			return op{}, fmt.Errorf("text: insert %v has origin %v not before it", ins.ID, *o)
		}
	}
	return op{s: ins.ID.Seq, n: uint32(n), text: ins.Text}, nil
}

func (d *Doc) applyDelete(o op) {
	for o.n > 0 {
		c := d.locateNear(dot{a: o.a, s: o.s}, d.delHint)
		d.delHint = c
		r := c.l.runs[c.ri]
		k := min(o.n, r.n-c.off)
		if !r.del {
			d.markDeleted(c, k)
		}
		o.s += k
		o.n -= k
	}
}

// applyInsert integrates a causally ready insert, skipping what is held.
func (d *Doc) applyInsert(o op) {
	ag := d.agents[o.a]
	next := ag.next()
	if o.s+o.n <= next {
		return
	}
	if o.s < next {
		k := next - o.s
		o.left = dot{a: o.a, s: next - 1}
		for range k {
			_, size := utf8.DecodeRuneInString(o.text)
			o.text = o.text[size:]
		}
		o.s, o.n = next, o.n-k
	}
	d.typing.ok = false
	c := d.integrate(o)
	ag.reserve(int(o.n))
	for _, ch := range o.text {
		ag.text = append(ag.text, ch)
	}
	ag.leafOf = append(ag.leafOf, make([]uint32, o.n)...)
	d.insertRun(c, run{a: o.a, s: o.s, n: o.n, left: o.left, right: o.right})
}

// integrate finds where a new run goes: YjsMod / FugueMax. Between its
// origins, it skips concurrent items whose origin left is further right, and
// among items with the same origin left it orders by origin right, then by
// agent name, so that concurrent runs never interleave.
func (d *Doc) integrate(o op) cursor {
	var c, leftC cursor
	if o.left.isNone() {
		c = d.norm(cursor{l: d.order[0]})
	} else {
		leftC = d.locate(o.left)
		c = d.after(leftC)
	}
	if d.itemAt(c) == o.right {
		return c // nothing concurrent between the origins: the common case
	}
	rightC := d.end()
	if !o.right.isNone() {
		rightC = d.locate(o.right)
	}
	dest, scanning := c, false
	for {
		if !scanning {
			dest = c
		}
		if d.isEnd(c) || d.itemAt(c) == o.right {
			break
		}
		r := &c.l.runs[c.ri]
		lc := d.cmpOrigin(r.leftOf(c.off), o.left, leftC, -1)
		if lc < 0 {
			break
		}
		if lc == 0 {
			rc := d.cmpOrigin(r.right, o.right, rightC, 1)
			if rc < 0 {
				scanning = true
			} else if rc == 0 && d.agentLess(o.a, o.s, r.a, r.s) {
				break
			} else {
				scanning = false
			}
		}
		// The rest of this run has origin left inside the scanned range:
		// skip it, stopping at the right origin if it is inside.
		if !o.right.isNone() && r.contains(o.right) && o.right.s > r.s+c.off {
			c.off = o.right.s - r.s
		} else {
			c = d.norm(cursor{l: c.l, ri: c.ri + 1})
		}
	}
	return dest
}

// cmpOrigin compares origin x with the new item's origin y (located at yc).
// noneSide is where "none" sorts: -1 for a left origin (document start), +1
// for a right origin (document end).
func (d *Doc) cmpOrigin(x, y dot, yc cursor, noneSide int) int {
	switch {
	case x == y:
		return 0
	case x.isNone():
		return noneSide
	case y.isNone():
		return -noneSide
	}
	return compare(d.locate(x), yc)
}

func (d *Doc) agentLess(a, s, b, t uint32) bool {
	na, nb := d.agents[a].name, d.agents[b].name
	if na != nb {
		return na < nb
	}
	return s < t
}

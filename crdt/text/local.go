package text

import (
	"fmt"
	"unicode/utf8"
)

// Insert inserts s at code point position pos (0 <= pos <= Len) and returns
// the delta to ship to the other replicas.
func (d *Doc) Insert(pos int, s string) (Delta, error) {
	if pos < 0 || pos > d.vis {
		return Delta{}, fmt.Errorf("text: insert at %d outside [0, %d]", pos, d.vis)
	}
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return Delta{}, nil
	}
	a := d.agents[d.self]
	seq := a.next()
	if uint64(seq)+uint64(n) >= noAgent {
		return Delta{}, fmt.Errorf("text: agent %q has used all sequence numbers", a.name)
	}
	if d.typing.ok && d.typing.pos == pos && d.extend(s, n) {
		d.typing.pos += n
		return Delta{Inserts: []Insert{{
			ID: ID{Agent: a.name, Seq: seq}, Left: ID{Agent: a.name, Seq: seq - 1},
			Right: d.toID(d.hint.l.runs[d.hint.ri].right), Text: s,
		}}}, nil
	}
	var c cursor
	if pos == d.vis {
		c = d.end()
	} else {
		c = d.visibleAt(pos)
	}
	left, right := d.before(c), d.itemAt(c)
	for _, ch := range s {
		a.text = append(a.text, ch)
	}
	a.leafOf = append(a.leafOf, make([]uint32, n)...)
	d.insertRun(c, run{a: d.self, s: seq, n: uint32(n), left: left, right: right})
	d.typing = typing{pos: pos + n, ok: true}
	return Delta{Inserts: []Insert{{
		ID: ID{Agent: a.name, Seq: seq}, Left: d.toID(left), Right: d.toID(right), Text: s,
	}}}, nil
}

// Delete deletes n code points starting at position pos and returns the
// delta to ship.
func (d *Doc) Delete(pos, n int) (Delta, error) {
	if pos < 0 || n < 0 || pos+n > d.vis {
		return Delta{}, fmt.Errorf("text: delete [%d, %d) outside [0, %d]", pos, pos+n, d.vis)
	}
	var out Delta
	if n > 0 {
		out.Deletes = make([]Range, 0, 1)
	}
	for n > 0 {
		c := d.visibleAt(pos)
		r := c.l.runs[c.ri]
		k := min(uint32(n), r.n-c.off)
		out.addDelete(Range{ID: ID{Agent: d.agents[r.a].name, Seq: r.s + c.off}, Len: k})
		d.markDeleted(c, k)
		n -= int(k)
	}
	return out, nil
}

// extend appends s (n code points) to the run at d.hint when it is this
// agent's latest run and still ends just before its origin right: typing
// that continues where it left off. It reports whether it did.
func (d *Doc) extend(s string, n int) bool {
	h := d.hint
	if h.l == nil || h.ri >= len(h.l.runs) {
		return false
	}
	r := &h.l.runs[h.ri]
	a := d.agents[d.self]
	if r.a != d.self || r.del || r.s+r.n != a.next() {
		return false
	}
	if d.itemAt(d.norm(cursor{l: h.l, ri: h.ri + 1})) != r.right {
		return false
	}
	for _, ch := range s {
		a.text = append(a.text, ch)
		a.leafOf = append(a.leafOf, h.l.id)
	}
	r.n += uint32(n)
	d.addVis(h.l, n)
	return true
}

package text

import (
	"fmt"
	"unicode/utf8"
)

// Insert inserts s at code point position pos (0 <= pos <= Len) and returns
// the delta to ship to the other replicas.
func (d *Doc) Insert(pos int, s string) (Delta, error) {
	ins, ok, err := d.insert(pos, s)
	if !ok {
		return Delta{}, err
	}
	return Delta{Inserts: d.oneInsert(ins)}, nil
}

// AppendInsert is Insert, but appends the operation to *x (joined with x's
// last insert when it continues it, as Delta.Merge does) instead of
// returning a new Delta. A caller that encodes and ships each delta as it
// goes can reuse one Delta's storage: reset x.Inserts and x.Deletes to
// length 0 after shipping. Nothing is appended on error.
func (d *Doc) AppendInsert(x *Delta, pos int, s string) error {
	ins, ok, err := d.insert(pos, s)
	if ok {
		x.addInsert(ins)
	}
	return err
}

// Delete deletes n code points starting at position pos and returns the
// delta to ship.
func (d *Doc) Delete(pos, n int) (Delta, error) {
	if err := d.checkDelete(pos, n); err != nil {
		return Delta{}, err
	}
	var out Delta
	if n > 0 {
		out.Deletes = d.oneRange()
	}
	d.delete(&out, pos, n)
	return out, nil
}

// AppendDelete is Delete, but appends the deleted ranges to *x (see
// AppendInsert). Nothing is appended on error.
func (d *Doc) AppendDelete(x *Delta, pos, n int) error {
	if err := d.checkDelete(pos, n); err != nil {
		return err
	}
	d.delete(x, pos, n)
	return nil
}

// insert performs a local insert and returns its operation; ok is false for
// an error or an empty s.
func (d *Doc) insert(pos int, s string) (ins Insert, ok bool, err error) {
	if pos < 0 || pos > d.vis {
		return Insert{}, false, fmt.Errorf("text: insert at %d outside [0, %d]", pos, d.vis)
	}
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return Insert{}, false, nil
	}
	a := d.agents[d.self]
	seq := a.next()
	if uint64(seq)+uint64(n) >= noAgent {
		return Insert{}, false, fmt.Errorf("text: agent %q has used all sequence numbers", a.name)
	}
	if d.typing.ok && d.typing.pos == pos && d.extend(s, n) {
		d.typing.pos += n
		return Insert{
			ID: ID{Agent: a.name, Seq: seq}, Left: ID{Agent: a.name, Seq: seq - 1},
			Right: d.toID(d.hint.l.runs[d.hint.ri].right), Text: s,
		}, true, nil
	}
	var c cursor
	if pos == d.vis {
		c = d.end()
	} else {
		c = d.visibleAt(pos)
	}
	left, right := d.before(c), d.itemAt(c)
	a.reserve(n)
	for _, ch := range s {
		a.text = append(a.text, ch)
	}
	a.leafOf = append(a.leafOf, make([]uint32, n)...)
	d.insertRun(c, run{a: d.self, s: seq, n: uint32(n), left: left, right: right})
	d.typing = typing{pos: pos + n, ok: true}
	return Insert{
		ID: ID{Agent: a.name, Seq: seq}, Left: d.toID(left), Right: d.toID(right), Text: s,
	}, true, nil
}

func (d *Doc) checkDelete(pos, n int) error {
	if pos < 0 || n < 0 || pos+n > d.vis {
		return fmt.Errorf("text: delete [%d, %d) outside [0, %d]", pos, pos+n, d.vis)
	}
	return nil
}

// delete deletes n characters from pos (checked) and appends the ranges to
// out.
func (d *Doc) delete(out *Delta, pos, n int) {
	for n > 0 {
		c := d.visibleAt(pos)
		r := &c.l.runs[c.ri]
		k := min(uint32(n), r.n-c.off)
		out.addDelete(Range{ID: ID{Agent: d.agents[r.a].name, Seq: r.s + c.off}, Len: k})
		d.markDeleted(c, k)
		n -= int(k)
	}
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
	a.reserve(n)
	for _, ch := range s {
		a.text = append(a.text, ch)
		a.leafOf = append(a.leafOf, h.l.id)
	}
	d.touch(h.l, h.ri)
	r.n += uint32(n)
	d.addVis(h.l, n)
	return true
}

// deltaChunk is how many one-operation deltas share one allocation.
const deltaChunk = 64

// oneInsert returns a slice holding just ins, carved from a chunk the Doc
// allocates deltaChunk at a time: a local edit then costs no allocation of
// its own. The slice's capacity is 1, so a caller appending to it (as
// Delta.Merge does) copies it instead of writing into the chunk, and every
// Delta still owns its operations. A Delta kept alive keeps its chunk alive
// (deltaChunk*88 bytes at most).
func (d *Doc) oneInsert(ins Insert) []Insert {
	if len(d.insBuf) == 0 {
		d.insBuf = make([]Insert, deltaChunk)
	}
	out := d.insBuf[:1:1]
	d.insBuf = d.insBuf[1:]
	out[0] = ins
	return out
}

// oneRange returns an empty slice of capacity 1 from a chunk, as oneInsert.
func (d *Doc) oneRange() []Range {
	if len(d.delBuf) == 0 {
		d.delBuf = make([]Range, deltaChunk)
	}
	out := d.delBuf[:0:1]
	d.delBuf = d.delBuf[1:]
	return out
}

package text

import (
	"fmt"
	"unicode/utf8"
)

// Insert inserts s at code point position pos (0 <= pos <= Len) and returns
// the delta to ship to the other replicas.
func (d *Doc) Insert(pos int, s string) (Delta, error) {
	li, ok, err := d.insert(pos, s)
	if !ok {
		return Delta{}, err
	}
	if len(d.insBuf) == 0 {
		d.insBuf = make([]Insert, deltaChunk)
	}
	out := d.insBuf[:1:1]
	d.insBuf = d.insBuf[1:]
	d.fill(&out[0], li, s)
	return Delta{Inserts: out}, nil
}

// AppendInsert is Insert, but appends the operation to *x (joined with x's
// last insert when it continues it, as Delta.Merge does) instead of
// returning a new Delta. A caller that encodes and ships each delta as it
// goes can reuse one Delta's storage: reset x.Inserts and x.Deletes to
// length 0 after shipping. Nothing is appended on error.
func (d *Doc) AppendInsert(x *Delta, pos int, s string) error {
	li, ok, err := d.insert(pos, s)
	if !ok {
		return err
	}
	if len(x.Inserts) > 0 {
		var ins Insert
		d.fill(&ins, li, s)
		x.addInsert(ins)
		return nil
	}
	x.Inserts = append(x.Inserts, Insert{})
	d.fill(&x.Inserts[len(x.Inserts)-1], li, s)
	return nil
}

// localIns is what a local insert of text s produced: its first seq and its
// origins.
type localIns struct {
	seq         uint32
	left, right dot
}

// fill writes the local insert li of s into *ins, field by field (a whole
// Insert copied while the GC marks goes through a bulk write barrier).
func (d *Doc) fill(ins *Insert, li localIns, s string) {
	name := d.agents[d.self].name
	ins.ID.Agent, ins.ID.Seq = name, li.seq
	ins.Left, ins.Right = d.toID(li.left), d.toID(li.right)
	ins.Text = s
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

// insert performs a local insert; ok is false for an error or an empty s.
func (d *Doc) insert(pos int, s string) (li localIns, ok bool, err error) {
	if pos < 0 || pos > d.vis {
		return localIns{}, false, fmt.Errorf("text: insert at %d outside [0, %d]", pos, d.vis)
	}
	if !utf8.ValidString(s) {
		// Every replica refuses a delta with invalid UTF-8 (and the batch
		// it came in); stored locally it would read as U+FFFD.
		return localIns{}, false, fmt.Errorf("text: insert of invalid UTF-8")
	}
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return localIns{}, false, nil
	}
	a := d.agents[d.self]
	seq := a.next()
	if uint64(seq)+uint64(n) >= noAgent {
		return localIns{}, false, fmt.Errorf("text: agent %q has used all sequence numbers", a.name)
	}
	if d.typing.ok && d.typing.pos == pos && d.extend(s, n) {
		d.typing.pos += n
		return localIns{seq: seq, left: dot{a: d.self, s: seq - 1}, right: d.hint.l.runs[d.hint.ri].right}, true, nil
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
	return localIns{seq: seq, left: left, right: right}, true, nil
}

func (d *Doc) checkDelete(pos, n int) error {
	// n > d.vis-pos rather than pos+n > d.vis: the sum wrapped for n near
	// MaxInt, the check passed, and the delete ran off the document's end
	// and panicked halfway.
	if pos < 0 || n < 0 || pos > d.vis || n > d.vis-pos {
		return fmt.Errorf("text: delete %d at %d outside [0, %d]", n, pos, d.vis)
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

// Insert carves the slice it returns from d.insBuf, a chunk of deltaChunk
// Inserts allocated at once: a local edit then costs no allocation of its
// own. The slice's capacity is 1, so a caller appending to it (as
// Delta.Merge does) copies it instead of writing into the chunk, and every
// Delta still owns its operations. A Delta kept alive keeps its chunk alive
// (deltaChunk*88 bytes at most).

// oneRange returns an empty slice of capacity 1 from a chunk, as oneInsert.
func (d *Doc) oneRange() []Range {
	if len(d.delBuf) == 0 {
		d.delBuf = make([]Range, deltaChunk)
	}
	out := d.delBuf[:0:1]
	d.delBuf = d.delBuf[1:]
	return out
}

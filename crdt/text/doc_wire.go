package text

import (
	"strings"
	"unicode/utf8"
)

// Origin kinds in the doc encoding's flags column: left origin in bits 0-1,
// right origin in bits 2-3.
const (
	oNone     = 0 // document start (left) or end (right)
	oAdjacent = 1 // the character next to the run in document order
	oSame     = 2 // another character of the run's agent: seq delta follows
	oOther    = 3 // agent rank and seq follow
)

// Encode writes the document state canonically: replicas holding the same
// operations produce the same bytes, whatever order they received them in.
// Layout (all integers varints, zigzag where signed):
//
//	version byte
//	agents: count, then (length, bytes) per name, sorted by name
//	runs in document order, as columns, after the run count:
//	  agent ranks as (rank, repeat) pairs
//	  length
//	  seq, as signed delta from the end of that agent's previous run
//	  origin kinds, 4 bits per run, two runs per byte (low nibble first)
//	  left origin values (oSame: seq as delta from the previous oSame left
//	  origin; oOther: rank, seq), then right origin values likewise
//	deleted ranges, per agent in rank order: count, then per range seq (as
//	  gap from the previous range's end) and length
//	visible text: UTF-8 length, bytes
//
// Deleted text is not stored.
func (d *Doc) Encode() []byte {
	order := d.agentsByName()
	rank := make([]uint32, len(d.agents))
	b := []byte{Version}
	b = putUvarint(b, uint64(len(order)))
	for i, a := range order {
		rank[a] = uint32(i)
		b = putString(b, d.agents[a].name)
	}
	var runs []run
	d.eachRun(func(r run) { runs = append(runs, r) })
	b = putUvarint(b, uint64(len(runs)))
	// Agent column.
	for i := 0; i < len(runs); {
		j := i + 1
		for j < len(runs) && runs[j].a == runs[i].a {
			j++
		}
		b = putUvarint(b, uint64(rank[runs[i].a]))
		b = putUvarint(b, uint64(j-i))
		i = j
	}
	// Seq and length columns.
	for _, r := range runs {
		b = putUvarint(b, uint64(r.n))
	}
	expect := make([]uint32, len(d.agents))
	for _, r := range runs {
		b = putZigzag(b, int64(r.s)-int64(expect[r.a]))
		expect[r.a] = r.s + r.n
	}
	// Origin kinds.
	kinds := make([]byte, len(runs))
	for i := range runs {
		var prev, next dot = none, none
		if i > 0 {
			prev = runs[i-1].last()
		}
		if i+1 < len(runs) {
			next = runs[i+1].at(0)
		}
		kinds[i] = originKind(runs[i].left, prev, runs[i].a) | originKind(runs[i].right, next, runs[i].a)<<2
	}
	for i := 0; i < len(kinds); i += 2 {
		k := kinds[i]
		if i+1 < len(kinds) {
			k |= kinds[i+1] << 4
		}
		b = append(b, k)
	}
	for side := range 2 {
		prev := int64(0)
		for i, r := range runs {
			o, k := r.left, kinds[i]&3
			if side == 1 {
				o, k = r.right, kinds[i]>>2
			}
			switch k {
			case oSame:
				b = putZigzag(b, int64(o.s)-prev)
				prev = int64(o.s)
			case oOther:
				b = putUvarint(b, uint64(rank[o.a]))
				b = putUvarint(b, uint64(o.s))
			}
		}
	}
	// Deleted ranges, per agent in rank order.
	dels := d.deletedRanges()
	for _, a := range order {
		j := 0
		for j < len(dels) && dels[j].ID.Agent == d.agents[a].name {
			j++
		}
		b = putUvarint(b, uint64(j))
		end := uint32(0)
		for _, r := range dels[:j] {
			b = putUvarint(b, uint64(r.ID.Seq-end))
			b = putUvarint(b, uint64(r.Len))
			end = r.ID.Seq + r.Len
		}
		dels = dels[j:]
	}
	return putString(b, d.Text())
}

func originKind(o, adjacent dot, self uint32) byte {
	switch {
	case o.isNone():
		return oNone
	case o == adjacent:
		return oAdjacent
	case o.a == self:
		return oSame
	}
	return oOther
}

// Decode reads what Encode wrote into a new replica for the local agent self.
// It returns an error wrapping ErrCorrupt for any malformed input, and never
// panics.
func Decode(data []byte, self string) (*Doc, error) {
	if self == "" {
		return nil, ErrAgent
	}
	r := &reader{b: data}
	r.version()
	names := make([]string, r.count("agent"))
	for i := range names {
		names[i] = r.str()
		if r.err == nil && (names[i] == "" || i > 0 && names[i] <= names[i-1]) {
			r.fail("agent names empty or not sorted")
		}
	}
	nA := uint64(len(names))
	runs := make([]run, r.count("run"))
	for i := 0; i < len(runs) && r.err == nil; {
		a := r.u32(nA, "agent")
		rep := r.uvarint()
		if rep == 0 || rep > uint64(len(runs)-i) {
			r.fail("agent repeat %d", rep)
		}
		for ; rep > 0 && r.err == nil; rep-- {
			runs[i].a = a
			i++
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	for i := range runs {
		runs[i].n = r.u32(noAgent, "length")
		if r.err == nil && runs[i].n == 0 {
			r.fail("zero run length")
		}
	}
	expect := make([]uint64, nA)
	for i := range runs {
		ru := &runs[i]
		s := int64(expect[ru.a]) + r.zigzag()
		if r.err != nil {
			return nil, r.err
		}
		if s < 0 || s+int64(ru.n) >= noAgent {
			return nil, corrupt("seq %d out of range", s)
		}
		ru.s = uint32(s)
		expect[ru.a] = uint64(s) + uint64(ru.n)
	}
	totals, err := tile(runs, len(names))
	if err == nil {
		err = checkTotal(totals)
	}
	if r.err == nil && err != nil {
		r.err = err
	}
	decodeOrigins(r, runs, totals)
	dels := decodeDeletes(r, totals)
	content := r.str()
	if err := r.done(); err != nil {
		return nil, err
	}
	if !utf8.ValidString(content) {
		return nil, corrupt("text not UTF-8")
	}
	return build(self, names, totals, runs, dels, content)
}

func decodeOrigins(r *reader, runs []run, totals []uint32) {
	kinds := make([]byte, len(runs))
	packed := r.bytes(uint64(len(runs)+1) / 2)
	if r.err != nil {
		return
	}
	for i := range kinds {
		kinds[i] = packed[i/2] >> (4 * (i % 2)) & 15
	}
	if len(kinds)%2 == 1 && packed[len(packed)-1]>>4 != 0 {
		r.fail("padding bits set")
		return
	}
	nA := uint64(len(totals))
	for side := range 2 {
		prev := int64(0)
		for i := range runs {
			ru := &runs[i]
			o, k := &ru.left, kinds[i]&3
			if side == 1 {
				o, k = &ru.right, kinds[i]>>2
			}
			switch k {
			case oNone:
				*o = none
			case oAdjacent:
				switch {
				case side == 0 && i > 0:
					*o = runs[i-1].last()
				case side == 1 && i+1 < len(runs):
					*o = runs[i+1].at(0)
				default:
					r.fail("adjacent origin at document edge")
				}
			case oSame:
				s := prev + r.zigzag()
				prev = s
				*o = dot{a: ru.a, s: uint32(max(0, min(s, noAgent-1)))}
				if s < 0 || s >= int64(totals[ru.a]) {
					r.fail("origin seq %d out of range", s)
				} else if s >= int64(ru.s) {
					// An agent's origin was there before its insert: an
					// origin at or after the run's start decoded, and no
					// replica would then accept the document's State.
					r.fail("origin seq %d not before its run at %d", s, ru.s)
				}
			case oOther:
				a := r.u32(nA, "agent")
				*o = dot{a: a, s: r.u32(uint64(totals[a]), "origin seq")}
			}
			if r.err != nil {
				return
			}
		}
	}
}

type delRange struct{ a, s, n uint32 }

func decodeDeletes(r *reader, totals []uint32) []delRange {
	var out []delRange
	for a, total := range totals {
		k := r.count("deleted range")
		end := uint64(0)
		for range k {
			gap := r.uvarint()
			n := r.uvarint()
			if r.err != nil {
				return nil
			}
			// Compared without adding: a gap or length near 2^64 wrapped
			// the sum past the check, and building the document then
			// indexed out of range (a panic on 24 bytes from a peer).
			if gap > uint64(total)-end || n == 0 || n > uint64(total)-end-gap {
				r.fail("deleted range out of bounds")
				return nil
			}
			s := end + gap
			out = append(out, delRange{a: uint32(a), s: uint32(s), n: uint32(n)})
			end = s + n
		}
	}
	return out
}

// MaxChars bounds the characters, deleted ones included, a decoded
// document may hold: building one allocates 8 bytes per character, and a
// deleted run needs no text to back it, so 20 bytes could declare 2^32
// characters and ask for 32 GiB.
const MaxChars = 1 << 24

func checkTotal(totals []uint32) error {
	var sum uint64
	for _, t := range totals {
		sum += uint64(t)
	}
	if sum > MaxChars {
		return corrupt("%d characters; at most %d", sum, MaxChars)
	}
	return nil
}

// tile checks that each agent's runs cover its seqs 0..total-1 exactly once,
// and returns the totals.
func tile(runs []run, nAgents int) ([]uint32, error) {
	type span struct{ s, n uint32 }
	per := make([][]span, nAgents)
	for _, r := range runs {
		per[r.a] = append(per[r.a], span{r.s, r.n})
	}
	totals := make([]uint32, nAgents)
	for a, spans := range per {
		sortSpans(spans, func(x span) uint32 { return x.s })
		var next uint32
		for _, sp := range spans {
			if sp.s != next {
				return nil, corrupt("agent %d seqs do not tile at %d", a, next)
			}
			next += sp.n
		}
		if next == 0 {
			return nil, corrupt("agent %d holds no characters", a)
		}
		totals[a] = next
	}
	return totals, nil
}

// build assembles a Doc from validated columns.
func build(self string, names []string, totals []uint32, runs []run, dels []delRange, content string) (*Doc, error) {
	d := &Doc{byName: map[string]uint32{}}
	d.initTree()
	for i, n := range names {
		d.intern(n)
		d.agents[i].text = make([]rune, totals[i])
		d.agents[i].leafOf = make([]uint32, totals[i])
	}
	d.self = d.intern(self)
	l := d.order[0]
	for _, ru := range runs {
		if len(l.runs) >= leafCap*3/4 {
			nl := &leaf{id: uint32(len(d.arena)), idx: len(d.order), runs: make([]run, 0, leafCap+2)}
			d.arena = append(d.arena, nl)
			d.order = append(d.order, nl)
			l = nl
		}
		l.runs = append(l.runs, ru)
		d.setLeaf(l, &ru)
		l.vis += int(ru.n)
		d.vis += int(ru.n)
	}
	for _, x := range dels {
		d.applyDelete(op{del: true, a: x.a, s: x.s, n: x.n})
	}
	if utf8.RuneCountInString(content) != d.vis {
		return nil, corrupt("text has %d characters, runs %d", utf8.RuneCountInString(content), d.vis)
	}
	rd := strings.NewReader(content)
	for _, l := range d.order {
		for i := range l.runs {
			if ru := &l.runs[i]; !ru.del {
				t := d.agents[ru.a].text[ru.s : ru.s+ru.n]
				for j := range t {
					t[j], _, _ = rd.ReadRune()
				}
			}
		}
	}
	return d, nil
}

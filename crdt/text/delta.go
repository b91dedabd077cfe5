package text

import (
	"cmp"
	"slices"
	"unicode/utf8"
)

// Delta is a set of operations to ship between replicas: the result of local
// edits, of merging several deltas, or a whole document (Doc.State). Applying
// it is idempotent and commutes with other deltas.
type Delta struct {
	Inserts []Insert
	Deletes []Range
}

// Insert is a run of characters typed by one agent: character i has ID
// (ID.Agent, ID.Seq+i), origin left the character before it (Left for the
// first one) and origin right Right. A zero Left or Right means the start or
// the end of the document.
type Insert struct {
	ID          ID
	Left, Right ID
	Text        string
}

// Range names Len consecutive characters of one agent, from ID.
type Range struct {
	ID  ID
	Len uint32
}

// IsEmpty reports whether the delta carries no operation.
func (x Delta) IsEmpty() bool { return len(x.Inserts) == 0 && len(x.Deletes) == 0 }

// Merge appends the operations of y to x, joining runs where y continues x.
func (x *Delta) Merge(y Delta) {
	for _, ins := range y.Inserts {
		x.addInsert(ins)
	}
	for _, r := range y.Deletes {
		x.addDelete(r)
	}
}

func (x *Delta) addInsert(ins Insert) {
	if n := len(x.Inserts); n > 0 {
		p := &x.Inserts[n-1]
		cnt := uint32(utf8.RuneCountInString(p.Text))
		if p.ID.Agent == ins.ID.Agent && p.ID.Seq+cnt == ins.ID.Seq && p.Right == ins.Right &&
			ins.Left == (ID{Agent: p.ID.Agent, Seq: ins.ID.Seq - 1}) {
			p.Text += ins.Text
			return
		}
	}
	x.Inserts = append(x.Inserts, ins)
}

func (x *Delta) addDelete(r Range) {
	if n := len(x.Deletes); n > 0 {
		p := &x.Deletes[n-1]
		if p.ID.Agent == r.ID.Agent && p.ID.Seq+p.Len == r.ID.Seq {
			p.Len += r.Len
			return
		}
	}
	x.Deletes = append(x.Deletes, r)
}

func sortIDs(v []ID) {
	slices.SortFunc(v, func(a, b ID) int {
		if c := cmp.Compare(a.Agent, b.Agent); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
}

func sortRanges(v []Range) {
	slices.SortFunc(v, func(a, b Range) int { return cmp.Compare(a.ID.Seq, b.ID.Seq) })
}

// agentsByName returns the indexes of the agents holding characters, sorted
// by name.
func (d *Doc) agentsByName() []uint32 {
	idx := make([]uint32, 0, len(d.agents))
	for i, a := range d.agents {
		if a.next() > 0 {
			idx = append(idx, uint32(i))
		}
	}
	slices.SortFunc(idx, func(a, b uint32) int { return cmp.Compare(d.agents[a].name, d.agents[b].name) })
	return idx
}

func sortSpans[T any](v []T, key func(T) uint32) {
	slices.SortFunc(v, func(a, b T) int { return cmp.Compare(key(a), key(b)) })
}

package crdt

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// refSet is a map-based reference OR-set, written from the definition (a
// DotMap<elem, DotSet> per side plus a causal context held as a plain set of
// dots), to check the sorted-run representation of SetField against.
type refSet struct {
	policy    SetPolicy
	ctx       map[Dot]bool
	adds, rms map[string]map[Dot]bool
}

func newRefSet(p SetPolicy) *refSet {
	return &refSet{policy: p, ctx: map[Dot]bool{}, adds: map[string]map[Dot]bool{}, rms: map[string]map[Dot]bool{}}
}

func (r *refSet) clone() *refSet {
	c := newRefSet(r.policy)
	maps.Copy(c.ctx, r.ctx)
	for e, ds := range r.adds {
		c.adds[e] = maps.Clone(ds)
	}
	for e, ds := range r.rms {
		c.rms[e] = maps.Clone(ds)
	}
	return c
}

func (r *refSet) next(node NodeID) Dot {
	d := Dot{node, 1}
	for x := range r.ctx {
		if x.Node == node && x.Counter >= d.Counter {
			d.Counter = x.Counter + 1
		}
	}
	return d
}

// observed returns a context holding the dots of e's entries.
func (r *refSet) observed(e string) map[Dot]bool {
	c := map[Dot]bool{}
	maps.Copy(c, r.adds[e])
	maps.Copy(c, r.rms[e])
	return c
}

// add returns the delta of adding e as node (r is not changed).
func (r *refSet) add(node NodeID, e string) *refSet {
	d := r.next(node)
	delta := newRefSet(r.policy)
	delta.ctx = r.observed(e)
	delta.ctx[d] = true
	delta.adds[e] = map[Dot]bool{d: true}
	return delta
}

// remove returns the delta of removing e as node (r is not changed).
func (r *refSet) remove(node NodeID, e string) *refSet {
	delta := newRefSet(r.policy)
	delta.ctx = r.observed(e)
	if r.policy == RemoveWins {
		d := r.next(node)
		delta.ctx[d] = true
		delta.rms[e] = map[Dot]bool{d: true}
	}
	return delta
}

// join merges o into r: a dot survives if both sides hold it or one holds
// it and the other's context has not seen it.
func (r *refSet) join(o *refSet) {
	for _, side := range [][2]map[string]map[Dot]bool{{r.adds, o.adds}, {r.rms, o.rms}} {
		mine, theirs := side[0], side[1]
		elems := map[string]bool{}
		for e := range mine {
			elems[e] = true
		}
		for e := range theirs {
			elems[e] = true
		}
		for e := range elems {
			ds := map[Dot]bool{}
			for d := range mine[e] {
				if theirs[e][d] || !o.ctx[d] {
					ds[d] = true
				}
			}
			for d := range theirs[e] {
				if mine[e][d] || !r.ctx[d] {
					ds[d] = true
				}
			}
			if len(ds) == 0 {
				delete(mine, e)
			} else {
				mine[e] = ds
			}
		}
	}
	maps.Copy(r.ctx, o.ctx)
}

func (r *refSet) elements() []string {
	var out []string
	for e := range r.adds {
		if r.policy == AddWins || len(r.rms[e]) == 0 {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return out
}

// refContent and storeContent give a store side as element -> sorted dots.
func refContent(side map[string]map[Dot]bool) map[string][]Dot {
	out := make(map[string][]Dot, len(side))
	for e, ds := range side {
		out[e] = slices.SortedFunc(maps.Keys(ds), compareDots)
	}
	return out
}

func storeContent(st *setStore) map[string][]Dot {
	out := map[string][]Dot{}
	st.each(func(e string, ds dotSet) {
		dots := make([]Dot, len(ds))
		for i, x := range ds {
			dots[i] = x.Dot
		}
		out[e] = dots
	})
	return out
}

func sameContent(a, b map[string][]Dot) bool { return maps.EqualFunc(a, b, slices.Equal) }

// dump renders a content map, sorted, for failure messages.
func dump(m map[string][]Dot) string {
	var out []string
	for _, e := range slices.Sorted(maps.Keys(m)) {
		out = append(out, fmt.Sprintf("%q:%v", e, m[e]))
	}
	return strings.Join(out, "\n")
}

// toORSet builds a compact ORSet holding exactly what r holds, by a path
// that shares nothing with the mutators and joins under test.
func (r *refSet) toORSet(node NodeID) *ORSet {
	s := NewORSet(node, r.policy)
	for d := range r.ctx {
		s.ctx.Add(d)
	}
	for _, side := range []struct {
		st *setStore
		m  map[string]map[Dot]bool
	}{{&s.f.adds, r.adds}, {&s.f.rms, r.rms}} {
		for _, e := range slices.Sorted(maps.Keys(side.m)) {
			var ds dotSet
			for _, d := range slices.SortedFunc(maps.Keys(side.m[e]), compareDots) {
				ds = append(ds, entry[struct{}]{Dot: d})
			}
			side.st.run = append(side.st.run, setEntry{e, ds})
		}
	}
	return s
}

// checkAgainstRef fails unless s holds exactly what r holds, reads the
// same, and encodes as the compact set built from r does.
func checkAgainstRef(t interface{ Fatalf(string, ...any) }, label string, s *ORSet, r *refSet, universe []string) {
	checkSetIndex(s.f)
	if got, want := storeContent(&s.f.adds), refContent(r.adds); !sameContent(got, want) {
		t.Fatalf("%s: adds\n%s\nreference\n%s", label, dump(got), dump(want))
	}
	if got, want := storeContent(&s.f.rms), refContent(r.rms); !sameContent(got, want) {
		t.Fatalf("%s: removes\n%s\nreference\n%s", label, dump(got), dump(want))
	}
	for d := range r.ctx {
		if !s.ctx.Contains(d) {
			t.Fatalf("%s: context lacks %v", label, d)
		}
	}
	n := len(s.ctx.Cloud())
	for _, v := range s.ctx.VersionVector() {
		n += int(v)
	}
	if n != len(r.ctx) {
		t.Fatalf("%s: context holds %d dots, reference %d", label, n, len(r.ctx))
	}
	want := r.elements()
	if got := s.Elements(); !slices.Equal(got, want) {
		t.Fatalf("%s: elements %v, reference %v", label, got, want)
	}
	if s.Len() != len(want) {
		t.Fatalf("%s: Len %d, reference %d", label, s.Len(), len(want))
	}
	for _, e := range universe {
		if s.Contains(e) != slices.Contains(want, e) {
			t.Fatalf("%s: Contains(%q) = %v", label, e, s.Contains(e))
		}
	}
	enc := s.Encode()
	if ref := r.toORSet(s.node).Encode(); !bytes.Equal(enc, ref) {
		t.Fatalf("%s: encoding differs from the compact reference:\n%x\n%x", label, enc, ref)
	}
	dec, err := DecodeORSet(enc, s.node)
	if err != nil {
		t.Fatalf("%s: decode: %v", label, err)
	}
	if !sameContent(storeContent(&dec.f.adds), refContent(r.adds)) || !sameContent(storeContent(&dec.f.rms), refContent(r.rms)) {
		t.Fatalf("%s: decoded store differs", label)
	}
}

// TestORSetMatchesReference runs random histories of adds, removes (single
// and in bulk, so stores cross their compaction bounds), delta deliveries
// (late, duplicated, grouped), full-state joins, clones and decodes on 2-3
// replicas, and after every step compares every replica with the
// map-based reference fed the same operations.
func TestORSetMatchesReference(t *testing.T) {
	for _, p := range []SetPolicy{AddWins, RemoveWins} {
		t.Run(fmt.Sprint(p), func(t *testing.T) {
			rapid.Check(t, func(t *rapid.T) { orsetReferenceHistory(t, p) })
		})
	}
}

type pendingDelta struct {
	s *ORSet
	r *refSet
}

func orsetReferenceHistory(t *rapid.T, p SetPolicy) {
	size := rapid.IntRange(compactMin/2, 6*compactMin).Draw(t, "universe")
	if rapid.IntRange(0, 3).Draw(t, "small?") == 0 {
		size = rapid.IntRange(1, 8).Draw(t, "small universe")
	}
	universe := make([]string, size)
	for i := range universe {
		universe[i] = fmt.Sprintf("e%03d", i)
	}
	n := rapid.IntRange(2, 3).Draw(t, "replicas")
	sets := make([]*ORSet, n)
	refs := make([]*refSet, n)
	for i := range sets {
		sets[i] = NewORSet(NodeID(fmt.Sprintf("n%d", i)), p)
		refs[i] = newRefSet(p)
	}
	var pending []pendingDelta
	mutate := func(i int, e string, add bool) {
		var d pendingDelta
		if add {
			d = pendingDelta{sets[i].Add(e), refs[i].add(sets[i].node, e)}
		} else {
			d = pendingDelta{sets[i].Remove(e), refs[i].remove(sets[i].node, e)}
		}
		refs[i].join(d.r)
		checkAgainstRef(t, "delta", d.s, d.r, universe)
		pending = append(pending, d)
	}
	// elems picks every stride-th element of the universe from a random
	// start: often enough to cross a compaction bound in one step.
	elems := func(label string) []string {
		from := rapid.IntRange(0, size-1).Draw(t, label+"-from")
		stride := rapid.IntRange(1, 3).Draw(t, label+"-stride")
		var out []string
		for i := from; i < size; i += stride {
			out = append(out, universe[i])
		}
		return out
	}
	steps := rapid.IntRange(1, 60).Draw(t, "steps")
	for step := range steps {
		i := rapid.IntRange(0, n-1).Draw(t, "at")
		var what string
		switch act := rapid.IntRange(0, 11).Draw(t, "action"); act {
		case 0, 1:
			what = "add"
			mutate(i, rapid.SampledFrom(universe).Draw(t, "elem"), true)
		case 2:
			what = "remove"
			mutate(i, rapid.SampledFrom(universe).Draw(t, "elem"), false)
		case 3:
			what = "bulk add"
			for _, e := range elems("add") {
				mutate(i, e, true)
			}
		case 4:
			what = "bulk remove"
			for _, e := range elems("remove") {
				mutate(i, e, false)
			}
		case 5, 6:
			what = "deliver"
			if len(pending) == 0 {
				continue
			}
			k := rapid.IntRange(0, len(pending)-1).Draw(t, "delta")
			d := pending[k]
			if rapid.Bool().Draw(t, "consume") {
				pending = slices.Delete(pending, k, k+1)
			}
			sets[i].Join(d.s)
			refs[i].join(d.r)
		case 7:
			what = "deliver a group"
			if len(pending) == 0 {
				continue
			}
			lo := rapid.IntRange(0, len(pending)-1).Draw(t, "group-from")
			hi := rapid.IntRange(lo+1, len(pending)).Draw(t, "group-to")
			gs, gr := pending[lo].s.Clone(), pending[lo].r.clone()
			for _, d := range pending[lo+1 : hi] {
				gs.Join(d.s)
				gr.join(d.r)
			}
			checkAgainstRef(t, "group", gs, gr, universe)
			sets[i].Join(gs)
			refs[i].join(gr)
		case 8, 9:
			what = "full state"
			j := rapid.IntRange(0, n-1).Draw(t, "from")
			sets[i].Join(sets[j].Clone())
			refs[i].join(refs[j].clone())
		case 10:
			what = "clone"
			sets[i] = sets[i].Clone()
		case 11:
			what = "decode"
			s, err := DecodeORSet(sets[i].Encode(), sets[i].node)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			sets[i] = s
		}
		for j := range sets {
			checkAgainstRef(t, fmt.Sprintf("step %d (%s at n%d), replica n%d", step, what, i, j), sets[j], refs[j], universe)
		}
	}
}

// The compaction bound, crossed one element at a time: below it new
// elements wait beside the run, past it they are merged in; removals leave
// dead slots that a later add revives or the next compaction drops; new
// elements and dead slots count together.
func TestSetStoreCompactionBoundaries(t *testing.T) {
	s := NewORSet("a", AddWins)
	r := newRefSet(AddWins)
	var universe []string
	for i := range 400 {
		universe = append(universe, fmt.Sprintf("e%03d", i))
	}
	do := func(e string, add bool) {
		t.Helper()
		if add {
			s.Add(e)
			r.join(r.add("a", e))
		} else {
			s.Remove(e)
			r.join(r.remove("a", e))
		}
		checkAgainstRef(t, e, s, r, universe)
	}
	st := &s.f.adds
	expect := func(label string, run, recent, dead int) {
		t.Helper()
		if len(st.run) != run || len(st.recent) != recent || st.dead != dead {
			t.Fatalf("%s: run %d, recent %d, dead %d; want %d, %d, %d", label, len(st.run), len(st.recent), st.dead, run, recent, dead)
		}
	}
	next := 0
	add := func(k int) {
		for range k {
			do(universe[next], true)
			next++
		}
	}
	add(compactMin)
	expect("at the bound", 0, compactMin, 0)
	add(1)
	expect("past the bound", compactMin+1, 0, 0)
	add(200 - next)
	s = s.Clone() // a clone is compact
	st = &s.f.adds
	checkAgainstRef(t, "clone", s, r, universe)
	expect("clone", 200, 0, 0)

	bound := compactMin + 200/compactFrac
	for i := range bound {
		do(universe[i], false)
	}
	expect("removed up to the bound", 200, 0, bound)
	do(universe[0], true) // revives its dead slot
	expect("revived", 200, 0, bound-1)
	do(universe[0], false)
	do(universe[bound], false)
	expect("removed past the bound", 200-bound-1, 0, 0)

	run, live := 200-bound-1, bound+1 // universe[live:200] are present
	bound = compactMin + run/compactFrac
	for i := range 20 {
		do(universe[live+i], false)
	}
	add(bound - 20)
	expect("dead and new up to the bound", run, bound-20, 20)
	add(1)
	expect("dead and new past the bound", run-20+bound-20+1, 0, 0)
}

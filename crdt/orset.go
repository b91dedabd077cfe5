package crdt

import (
	"slices"
	"strings"
)

// SetPolicy decides concurrent add versus remove of the same element.
type SetPolicy byte

const (
	// AddWins: an add concurrent with a remove survives. A removed element
	// leaves nothing behind except its dots in the causal context.
	AddWins SetPolicy = 0
	// RemoveWins: a remove concurrent with an add wins. Each remove leaves
	// one remove dot per element (until a later add replaces it), since the
	// remove must be remembered to defeat concurrent adds.
	RemoveWins SetPolicy = 1
)

type dotSet = dotFun[struct{}]

// setEntry is one element of a set store with its dots. The dots are sorted
// and never modified in place (stores share them); nil marks a dead slot,
// an element removed since the store was last compacted.
type setEntry struct {
	elem string
	dots dotSet
}

// setStore maps elements to non-empty dot sets. Most entries sit in run,
// sorted by element, so that a full-state join merges two stores in one
// linear pass without hashing, and the garbage collector sees one array
// instead of a hash table. Changes since the last compaction sit beside it:
// elements absent from run in recent, removed elements of run as dead
// slots. When those pass compactMin + len(run)/compactFrac, the store is
// rewritten as one run, so a change costs O(log n) amortized.
type setStore struct {
	run    []setEntry        // strictly increasing by elem; never shared
	recent map[string]dotSet // elements absent from run; nil when empty
	dead   int               // slots of run with nil dots
}

const (
	compactMin  = 32
	compactFrac = 8
)

// len returns the number of elements held.
func (s *setStore) len() int { return len(s.run) - s.dead + len(s.recent) }

// search returns the position of e in run (or where it would go) and
// whether it is there.
func (s *setStore) search(e string) (int, bool) {
	lo, hi := 0, len(s.run)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.run[m].elem < e {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(s.run) && s.run[lo].elem == e
}

// get returns the dots of e (nil if absent).
func (s *setStore) get(e string) dotSet {
	if ds, ok := s.recent[e]; ok {
		return ds
	}
	if i, ok := s.search(e); ok {
		return s.run[i].dots
	}
	return nil
}

// set stores ns under e (removing e if ns is empty), compacts if due, and
// returns the previous dots of e.
func (s *setStore) set(e string, ns dotSet) dotSet {
	old, _ := s.update(e, func(dotSet) dotSet { return ns })
	return old
}

// update replaces the dots of e (nil if absent) by fn(dots), removing e if
// the result is empty, with one lookup; it compacts if due and returns the
// previous and the new dots.
func (s *setStore) update(e string, fn func(old dotSet) dotSet) (old, ns dotSet) {
	if old, ok := s.recent[e]; ok {
		if ns = fn(old); len(ns) == 0 {
			ns = nil
			delete(s.recent, e)
		} else {
			s.recent[e] = ns
		}
		return old, ns
	}
	if i, ok := s.search(e); ok {
		old = s.run[i].dots
		if ns = fn(old); len(ns) == 0 {
			ns = nil
		}
		switch {
		case old == nil && ns != nil:
			s.dead--
		case old != nil && ns == nil:
			s.dead++
		}
		s.run[i].dots = ns
	} else if ns = fn(nil); len(ns) == 0 {
		return nil, nil
	} else {
		if s.recent == nil {
			s.recent = map[string]dotSet{}
		}
		s.recent[e] = ns
	}
	if len(s.recent)+s.dead > compactMin+len(s.run)/compactFrac {
		s.compact()
	}
	return old, ns
}

// compact rewrites the store as one run.
func (s *setStore) compact() {
	if len(s.recent) == 0 && s.dead == 0 {
		return
	}
	s.run, s.recent, s.dead = s.sorted(), nil, 0
}

// sorted returns a new slice of the live entries, sorted by element.
func (s *setStore) sorted() []setEntry {
	out := make([]setEntry, 0, s.len())
	for it := s.iter(); ; {
		x, ok := it.next()
		if !ok {
			return out
		}
		out = append(out, x)
	}
}

// ascend calls fn for every element in increasing order.
func (s *setStore) ascend(fn func(e string, ds dotSet)) {
	for it := s.iter(); ; {
		x, ok := it.next()
		if !ok {
			return
		}
		fn(x.elem, x.dots)
	}
}

// storeIter yields the live entries of a store in increasing order: the
// run merged with the sorted recent entries.
type storeIter struct {
	run, rs []setEntry
}

func (s *setStore) iter() storeIter {
	it := storeIter{run: s.run}
	if len(s.recent) > 0 {
		it.rs = make([]setEntry, 0, len(s.recent))
		for e, ds := range s.recent {
			it.rs = append(it.rs, setEntry{e, ds})
		}
		slices.SortFunc(it.rs, func(a, b setEntry) int { return strings.Compare(a.elem, b.elem) })
	}
	return it
}

func (it *storeIter) next() (setEntry, bool) {
	for len(it.run) > 0 && it.run[0].dots == nil {
		it.run = it.run[1:]
	}
	var x setEntry
	switch {
	case len(it.rs) > 0 && (len(it.run) == 0 || it.rs[0].elem < it.run[0].elem):
		x, it.rs = it.rs[0], it.rs[1:]
	case len(it.run) > 0:
		x, it.run = it.run[0], it.run[1:]
	default:
		return x, false
	}
	return x, true
}

// each calls fn for every element, in no particular order.
func (s *setStore) each(fn func(e string, ds dotSet)) {
	for _, x := range s.run {
		if x.dots != nil {
			fn(x.elem, x.dots)
		}
	}
	for e, ds := range s.recent {
		fn(e, ds)
	}
}

// clone returns a compact copy sharing no mutable part with s.
func (s *setStore) clone() setStore {
	if len(s.recent) == 0 && s.dead == 0 {
		return setStore{run: slices.Clone(s.run)}
	}
	return setStore{run: s.sorted()}
}

// merge replaces s by the join of the stores (s, c) and (o, oc), in one
// pass over both in element order. If c and oc share no dot (disjoint), no
// dot of either side can be covered by the other's context, so an entry
// held by one side is kept as it is and a common one takes the union of
// both dot sets. o is not modified.
func (s *setStore) merge(o *setStore, c, oc *CausalContext, disjoint bool) {
	out := make([]setEntry, 0, s.mergedLen(o))
	inC, inOC := ctxCursor{c: c}, ctxCursor{c: oc}
	var slab dotSlab
	keep := func(e setEntry, in *ctxCursor) {
		if !disjoint {
			if e.dots = filterDots(e.dots, in); e.dots == nil {
				return
			}
		}
		out = append(out, e)
	}
	xi, yi := s.iter(), o.iter()
	x, xok := xi.next()
	y, yok := yi.next()
	for xok && yok {
		switch k := strings.Compare(x.elem, y.elem); {
		case k < 0:
			keep(x, &inOC)
			x, xok = xi.next()
		case k > 0:
			keep(y, &inC)
			y, yok = yi.next()
		default:
			var ds dotSet
			if disjoint {
				ds = slab.union(x.dots, y.dots)
			} else {
				ds = joinDots(x.dots, &inC, y.dots, &inOC)
			}
			if ds != nil {
				out = append(out, setEntry{x.elem, ds})
			}
			x, xok = xi.next()
			y, yok = yi.next()
		}
	}
	for ; xok; x, xok = xi.next() {
		keep(x, &inOC)
	}
	for ; yok; y, yok = yi.next() {
		keep(y, &inC)
	}
	s.run, s.recent, s.dead = out, nil, 0
}

// mergedLen returns the number of distinct elements of s and o: a pass
// comparing elements only, so that merge allocates its result once, at its
// final size.
func (s *setStore) mergedLen(o *setStore) int {
	n := s.len() + o.len()
	xi, yi := s.iter(), o.iter()
	x, xok := xi.next()
	y, yok := yi.next()
	for xok && yok {
		switch k := strings.Compare(x.elem, y.elem); {
		case k < 0:
			x, xok = xi.next()
		case k > 0:
			y, yok = yi.next()
		default:
			n--
			x, xok = xi.next()
			y, yok = yi.next()
		}
	}
	return n
}

// dotSlab carves the dot sets a merge creates out of shared arrays: one
// heap object per slabSize dots instead of one per element, for the
// allocator and the garbage collector. A carved set has its capacity cut to
// its length, so it stays immutable like any other; a live one keeps its
// array (at most slabSize dots) alive.
type dotSlab struct{ buf dotSet }

const slabSize = 256

// union returns the sorted union of s and o, carved from the slab.
func (a *dotSlab) union(s, o dotSet) dotSet {
	n := len(s) + len(o)
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make(dotSet, 0, max(n, slabSize))
	}
	start := len(a.buf)
	out := a.buf
	i, j := 0, 0
	for i < len(s) && j < len(o) {
		switch k := compareDots(s[i].Dot, o[j].Dot); {
		case k < 0:
			out = append(out, s[i])
			i++
		case k > 0:
			out = append(out, o[j])
			j++
		default:
			out = append(out, s[i])
			i++
			j++
		}
	}
	out = append(append(out, s[i:]...), o[j:]...)
	a.buf = out
	return out[start:len(out):len(out)]
}

// filterDots returns the dots of s not in the context behind in; s itself
// when none is dropped, nil when all are.
func filterDots(s dotSet, in *ctxCursor) dotSet {
	for i, e := range s {
		if in.contains(e.Dot) {
			out := make(dotSet, i, len(s)-1)
			copy(out, s[:i])
			for _, e := range s[i+1:] {
				if !in.contains(e.Dot) {
					out = append(out, e)
				}
			}
			if len(out) == 0 {
				return nil
			}
			return out
		}
	}
	return s
}

// joinDots is joinFun through context cursors.
func joinDots(s dotSet, inC *ctxCursor, o dotSet, inOC *ctxCursor) dotSet {
	if len(s) == 1 && len(o) == 1 && s[0].Dot == o[0].Dot {
		return s
	}
	out := make(dotSet, 0, len(s)+len(o))
	i, j := 0, 0
	for i < len(s) || j < len(o) {
		switch {
		case j == len(o) || (i < len(s) && compareDots(s[i].Dot, o[j].Dot) < 0):
			if !inOC.contains(s[i].Dot) {
				out = append(out, s[i])
			}
			i++
		case i == len(s) || compareDots(s[i].Dot, o[j].Dot) > 0:
			if !inC.contains(o[j].Dot) {
				out = append(out, o[j])
			}
			j++
		default:
			out = append(out, s[i])
			i++
			j++
		}
	}
	if len(out) == 0 {
		return nil
	}
	return slices.Clip(out)
}

// SetField is an observed-remove set store: element -> dots of the adds
// that put it there (DotMap<E, DotSet> in the paper), plus element -> dots
// of removes under RemoveWins.
//
// An in-memory index from each dot to its element lets a small delta join
// in time proportional to the delta, not to the set. A full-state join
// merges the sorted stores instead and drops the index.
type SetField struct {
	policy SetPolicy
	adds   setStore
	rms    setStore
	where  map[Dot]string // every dot in adds or rms -> its element; nil until needed
}

func newSetField(p SetPolicy) *SetField { return &SetField{policy: p} }

// index returns the dot index, building it if a full-state join dropped it.
func (f *SetField) index() map[Dot]string {
	if f.where == nil {
		f.where = make(map[Dot]string, f.adds.len()+f.rms.len())
		f.elemDots(func(e string, d Dot) { f.where[d] = e })
	}
	return f.where
}

// elemDots calls fn for every dot with the element holding it.
func (f *SetField) elemDots(fn func(e string, d Dot)) {
	for _, st := range []*setStore{&f.adds, &f.rms} {
		st.each(func(e string, ds dotSet) {
			for _, x := range ds {
				fn(e, x.Dot)
			}
		})
	}
}

// put stores ns under e in st (deleting e if ns is empty), keeps the index
// in step and returns the previous dots of e.
func (f *SetField) put(st *setStore, e string, ns dotSet) dotSet {
	return f.update(st, e, func(dotSet) dotSet { return ns })
}

// update replaces the dots of e in st by fn(dots) (see setStore.update),
// keeps the index in step and returns the previous dots of e.
func (f *SetField) update(st *setStore, e string, fn func(old dotSet) dotSet) dotSet {
	old, ns := st.update(e, fn)
	if f.where != nil {
		reindex(f.where, e, old, ns)
	}
	return old
}

// Tag implements Embedded.
func (f *SetField) Tag() Tag {
	if f.policy == RemoveWins {
		return TagRWSet
	}
	return TagAWSet
}

// Policy returns the set's policy.
func (f *SetField) Policy() SetPolicy { return f.policy }

// Contains reports whether e is present.
func (f *SetField) Contains(e string) bool {
	ok := f.adds.get(e) != nil
	if ok && f.policy == RemoveWins {
		return f.rms.get(e) == nil
	}
	return ok
}

// Elements returns the present elements, sorted.
func (f *SetField) Elements() []string {
	out := make([]string, 0, f.adds.len())
	f.adds.ascend(func(e string, _ dotSet) {
		if f.policy == AddWins || f.rms.get(e) == nil {
			out = append(out, e)
		}
	})
	return out
}

// Len returns the number of present elements.
func (f *SetField) Len() int {
	if f.policy == AddWins {
		return f.adds.len()
	}
	n := 0
	f.adds.each(func(e string, _ dotSet) {
		if f.rms.get(e) == nil {
			n++
		}
	})
	return n
}

// Join implements Embedded. A dot of f survives if other holds it too or
// otherCtx has not seen it; a dot of other survives if f holds it or ctx
// has not seen it. When otherCtx is small (a delta), the elements of f
// absent from other that can lose dots are found through the dot index and
// the elements of other are joined one by one. Otherwise (full states) the
// two sorted stores are merged in one pass.
func (f *SetField) Join(ctx *CausalContext, other Embedded, otherCtx *CausalContext) Embedded {
	o, ok := other.(*SetField)
	if !ok || o == nil {
		o = newSetField(f.policy)
	}
	if o == f {
		return f // every dot is held by both sides
	}
	if limit := (f.adds.len() + f.rms.len()) / 4; otherCtx.dotCount(limit) <= limit {
		where := f.index()
		stores := [2][2]*setStore{{&f.adds, &o.adds}, {&f.rms, &o.rms}}
		otherCtx.eachDot(func(d Dot) {
			e, ok := where[d]
			if !ok {
				return
			}
			for _, p := range stores {
				if p[1].get(e) == nil {
					f.update(p[0], e, func(s dotSet) dotSet { return s.filter(otherCtx) })
				}
			}
		})
		for _, p := range stores {
			p[1].each(func(e string, os dotSet) {
				f.update(p[0], e, func(s dotSet) dotSet { return joinFun(s, ctx, os, otherCtx) })
			})
		}
		return f
	}
	// A join with a large context touches O(state) entries anyway; the
	// index is dropped and rebuilt by the next small join that needs it.
	f.where = nil
	disjoint := ctx.disjoint(otherCtx)
	f.adds.merge(&o.adds, ctx, otherCtx, disjoint)
	f.rms.merge(&o.rms, ctx, otherCtx, disjoint)
	return f
}

// Dots implements Embedded.
func (f *SetField) Dots(fn func(Dot)) { f.elemDots(func(_ string, d Dot) { fn(d) }) }

// Empty implements Embedded.
func (f *SetField) Empty() bool { return f.adds.len() == 0 && f.rms.len() == 0 }

// Clone implements Embedded.
func (f *SetField) Clone() Embedded { return f.clone() }

func (f *SetField) clone() *SetField {
	// The copy builds its own index when it needs one.
	return &SetField{policy: f.policy, adds: f.adds.clone(), rms: f.rms.clone()}
}

// Encode implements Embedded: adds, then removes, each sorted by element.
func (f *SetField) Encode(w *Writer) {
	for _, st := range []*setStore{&f.adds, &f.rms} {
		w.Uvarint(uint64(st.len()))
		st.ascend(func(e string, ds dotSet) {
			w.String(e)
			writeFun(w, ds, nil)
		})
	}
}

func decodeSetField(p SetPolicy) DecodeFunc {
	return func(r *Reader, ctx *CausalContext, _ *Registry) (Embedded, error) {
		return readSetField(r, ctx, p), nil
	}
}

func readSetField(r *Reader, ctx *CausalContext, p SetPolicy) *SetField {
	f := newSetField(p)
	f.where = map[Dot]string{}
	for i, st := range []*setStore{&f.adds, &f.rms} {
		n := r.Count(3)
		if n > 0 {
			st.run = make([]setEntry, 0, n) // n is bounded by the input left
		}
		prev := ""
		for j := range n {
			k := r.String()
			s := readFun[struct{}](r, ctx, nil)
			if r.err != nil {
				return f
			}
			if (j > 0 && k <= prev) || len(s) == 0 || (i == 1 && p == AddWins) {
				r.Fail("non-canonical set")
				return f
			}
			prev = k
			for _, x := range s {
				if _, dup := f.where[x.Dot]; dup {
					r.Fail("dot held twice in set")
					return f
				}
				f.where[x.Dot] = k
			}
			st.run = append(st.run, setEntry{k, s})
		}
	}
	return f
}

// dotsOf adds the dots of e's entries to ctx.
func (f *SetField) dotsOf(e string, ctx *CausalContext) {
	f.adds.get(e).addDots(ctx)
	f.rms.get(e).addDots(ctx)
}

// add computes the delta of adding e as node.
func (f *SetField) add(node NodeID, ctx *CausalContext, e string) (*SetField, *CausalContext) {
	d := ctx.Next(node)
	dctx := contextOf(d)
	f.dotsOf(e, dctx)
	delta := newSetField(f.policy)
	delta.adds.run = []setEntry{{e, dotSet{{Dot: d}}}}
	return delta, dctx
}

// remove computes the delta of removing e as node.
func (f *SetField) remove(node NodeID, ctx *CausalContext, e string) (*SetField, *CausalContext) {
	dctx := NewCausalContext()
	delta := newSetField(f.policy)
	if f.policy == RemoveWins {
		d := ctx.Next(node)
		dctx.Add(d)
		delta.rms.run = []setEntry{{e, dotSet{{Dot: d}}}}
	}
	f.dotsOf(e, dctx)
	return delta, dctx
}

// ORSet is an observed-remove set of strings (add-wins by default,
// remove-wins as an option) with its own causal context. All replicas of
// one set must use the same policy.
type ORSet struct {
	node NodeID
	ctx  *CausalContext
	f    *SetField
}

// NewORSet returns an empty set whose mutators act as node.
func NewORSet(node NodeID, p SetPolicy) *ORSet {
	return &ORSet{node: node, ctx: NewCausalContext(), f: newSetField(p)}
}

// Add inserts e and returns the delta.
func (s *ORSet) Add(e string) *ORSet {
	// Same result as f.add then s.Join(delta), without a general join and
	// with one lookup: the delta replaces e's entries by one fresh dot.
	d := s.ctx.Next(s.node)
	c := contextOf(d)
	ds := dotSet{{Dot: d}}
	s.f.put(&s.f.adds, e, ds).addDots(c)
	if s.f.rms.len() > 0 {
		s.f.put(&s.f.rms, e, nil).addDots(c)
	}
	s.ctx.Add(d)
	f := newSetField(s.f.policy)
	f.adds.run = []setEntry{{e, ds}}
	return &ORSet{node: s.node, ctx: c, f: f}
}

// Remove removes e (the adds this replica has observed) and returns the
// delta.
func (s *ORSet) Remove(e string) *ORSet {
	f, c := s.f.remove(s.node, s.ctx, e)
	return s.apply(f, c)
}

func (s *ORSet) apply(f *SetField, c *CausalContext) *ORSet {
	d := &ORSet{node: s.node, ctx: c, f: f}
	s.Join(d)
	return d
}

// Contains reports whether e is present.
func (s *ORSet) Contains(e string) bool { return s.f.Contains(e) }

// Elements returns the present elements, sorted.
func (s *ORSet) Elements() []string { return s.f.Elements() }

// Len returns the number of present elements.
func (s *ORSet) Len() int { return s.f.Len() }

// Context returns the set's causal context (do not modify).
func (s *ORSet) Context() *CausalContext { return s.ctx }

// Join merges o (a state or a delta) into s. o is not modified and s keeps
// no reference to o's mutable parts.
func (s *ORSet) Join(o *ORSet) {
	s.f.Join(s.ctx, o.f, o.ctx)
	s.ctx.Join(o.ctx)
}

// Clone returns an independent copy.
func (s *ORSet) Clone() *ORSet { return &ORSet{node: s.node, ctx: s.ctx.Clone(), f: s.f.clone()} }

// Encode returns the canonical encoding: policy, context, store.
func (s *ORSet) Encode() []byte {
	w := newWriter()
	w.Uvarint(uint64(s.f.policy))
	w.writeContext(s.ctx)
	s.f.Encode(w)
	return w.finish(KindORSet)
}

// DecodeORSet decodes a set; node is the identity for its mutators.
func DecodeORSet(b []byte, node NodeID) (*ORSet, error) {
	r := openReader(b, KindORSet)
	p := SetPolicy(r.Uvarint())
	if p != AddWins && p != RemoveWins {
		r.Fail("bad set policy")
	}
	ctx := r.readContext()
	f := readSetField(r, ctx, p)
	if err := r.close(); err != nil {
		return nil, err
	}
	return &ORSet{node: node, ctx: ctx, f: f}, nil
}

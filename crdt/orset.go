package crdt

import "slices"

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

// SetField is an observed-remove set store: element -> dots of the adds
// that put it there (DotMap<E, DotSet> in the paper), plus element -> dots
// of removes under RemoveWins.
//
// An in-memory index from each dot to its element lets a small delta join
// in time proportional to the delta, not to the set.
type SetField struct {
	policy SetPolicy
	adds   map[string]dotSet
	rms    map[string]dotSet
	where  map[Dot]string // every dot in adds or rms -> its element; nil until needed
}

func newSetField(p SetPolicy) *SetField {
	return &SetField{policy: p, adds: map[string]dotSet{}, rms: map[string]dotSet{}}
}

// index returns the dot index, building it if a full-state join dropped it.
func (f *SetField) index() map[Dot]string {
	if f.where == nil {
		f.where = make(map[Dot]string, len(f.adds)+len(f.rms))
		for _, m := range []map[string]dotSet{f.adds, f.rms} {
			for e, s := range m {
				for _, x := range s {
					f.where[x.Dot] = e
				}
			}
		}
	}
	return f.where
}

// put stores ns under e in m (deleting e if ns is empty) and keeps the
// index in step with the previous entry old.
func (f *SetField) put(m map[string]dotSet, e string, old, ns dotSet) {
	if len(ns) == 0 {
		delete(m, e)
	} else {
		m[e] = ns
	}
	if f.where != nil {
		reindex(f.where, e, old, ns)
	}
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
	_, ok := f.adds[e]
	if ok && f.policy == RemoveWins {
		_, removed := f.rms[e]
		return !removed
	}
	return ok
}

// Elements returns the present elements, sorted.
func (f *SetField) Elements() []string {
	out := make([]string, 0, len(f.adds))
	for e := range f.adds {
		if f.Contains(e) {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return out
}

// Len returns the number of present elements.
func (f *SetField) Len() int {
	if f.policy == AddWins {
		return len(f.adds)
	}
	n := 0
	for e := range f.adds {
		if f.Contains(e) {
			n++
		}
	}
	return n
}

// Join implements Embedded. A dot of f survives if other holds it too or
// otherCtx has not seen it; a dot of other survives if f holds it or ctx
// has not seen it. Elements of f absent from other can only lose dots that
// otherCtx covers: when otherCtx is small (a delta) they are found through
// the dot index, otherwise by a scan.
func (f *SetField) Join(ctx *CausalContext, other Embedded, otherCtx *CausalContext) Embedded {
	o, ok := other.(*SetField)
	if !ok || o == nil {
		o = newSetField(f.policy)
	}
	pairs := [2][2]map[string]dotSet{{f.adds, o.adds}, {f.rms, o.rms}}
	if limit := (len(f.adds) + len(f.rms)) / 4; otherCtx.dotCount(limit) <= limit {
		where := f.index()
		otherCtx.eachDot(func(d Dot) {
			e, ok := where[d]
			if !ok {
				return
			}
			for _, p := range pairs {
				if _, inOther := p[1][e]; inOther {
					continue
				}
				if s, ok := p[0][e]; ok {
					f.put(p[0], e, s, s.filter(otherCtx))
				}
			}
		})
	} else if !ctx.disjoint(otherCtx) {
		// A join with a large context touches O(state) entries anyway; the
		// index is dropped and rebuilt by the next small join that needs it.
		// (When the contexts share no dot, as between replicas that have not
		// heard from each other, no entry of f can lose a dot: skip the scan.)
		f.where = nil
		for _, p := range pairs {
			for e, s := range p[0] {
				if _, inOther := p[1][e]; inOther {
					continue
				}
				if ns := s.filter(otherCtx); len(ns) != len(s) {
					f.put(p[0], e, s, ns)
				}
			}
		}
	}
	for _, p := range pairs {
		for e, os := range p[1] {
			s := p[0][e]
			f.put(p[0], e, s, joinFun(s, ctx, os, otherCtx))
		}
	}
	return f
}

// Dots implements Embedded.
func (f *SetField) Dots(fn func(Dot)) {
	for _, m := range []map[string]dotSet{f.adds, f.rms} {
		for _, s := range m {
			for _, e := range s {
				fn(e.Dot)
			}
		}
	}
}

// Empty implements Embedded.
func (f *SetField) Empty() bool { return len(f.adds) == 0 && len(f.rms) == 0 }

// Clone implements Embedded.
func (f *SetField) Clone() Embedded { return f.clone() }

func (f *SetField) clone() *SetField {
	c := &SetField{policy: f.policy, adds: make(map[string]dotSet, len(f.adds)), rms: make(map[string]dotSet, len(f.rms))}
	for k, v := range f.adds {
		c.adds[k] = v
	}
	for k, v := range f.rms {
		c.rms[k] = v
	}
	return c // the copy builds its own index when it needs one
}

// Encode implements Embedded: adds, then removes, each sorted by element.
func (f *SetField) Encode(w *Writer) {
	for _, m := range []map[string]dotSet{f.adds, f.rms} {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		w.Uvarint(uint64(len(keys)))
		for _, k := range keys {
			w.String(k)
			writeFun(w, m[k], nil)
		}
	}
}

func decodeSetField(p SetPolicy) DecodeFunc {
	return func(r *Reader, ctx *CausalContext, _ *Registry) (Embedded, error) {
		return readSetField(r, ctx, p), nil
	}
}

func readSetField(r *Reader, ctx *CausalContext, p SetPolicy) *SetField {
	f := newSetField(p)
	for i, m := range []map[string]dotSet{f.adds, f.rms} {
		n := r.Count(3)
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
				if _, dup := f.index()[x.Dot]; dup {
					r.Fail("dot held twice in set")
					return f
				}
			}
			f.put(m, k, nil, s)
		}
	}
	return f
}

// dotsOf adds the dots of e's entries to ctx.
func (f *SetField) dotsOf(e string, ctx *CausalContext) {
	f.adds[e].addDots(ctx)
	f.rms[e].addDots(ctx)
}

// add computes the delta of adding e as node.
func (f *SetField) add(node NodeID, ctx *CausalContext, e string) (*SetField, *CausalContext) {
	d := ctx.Next(node)
	dctx := contextOf(d)
	f.dotsOf(e, dctx)
	delta := newSetField(f.policy)
	delta.put(delta.adds, e, nil, dotSet{{Dot: d}})
	return delta, dctx
}

// remove computes the delta of removing e as node.
func (f *SetField) remove(node NodeID, ctx *CausalContext, e string) (*SetField, *CausalContext) {
	dctx := NewCausalContext()
	delta := newSetField(f.policy)
	if f.policy == RemoveWins {
		d := ctx.Next(node)
		dctx.Add(d)
		delta.put(delta.rms, e, nil, dotSet{{Dot: d}})
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
	f, c := s.f.add(s.node, s.ctx, e)
	// Same result as s.Join(delta), without a general join: the delta
	// replaces e's entries by one fresh dot.
	s.f.put(s.f.adds, e, s.f.adds[e], f.adds[e])
	s.f.put(s.f.rms, e, s.f.rms[e], nil)
	s.ctx.Add(f.adds[e][0].Dot)
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

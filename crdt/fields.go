package crdt

import (
	"slices"
)

// Causal register and counter field types for ORMap. Each is a dot store
// without its own context; the map's context is handed to every operation.

// MVField is a multi-value register store: every concurrent write survives
// until a later write that has seen it.
type MVField struct{ s dotFun[string] }

// Tag implements Embedded.
func (f *MVField) Tag() Tag { return TagMV }

// Values returns the concurrent values, sorted and deduplicated.
func (f *MVField) Values() []string {
	out := make([]string, 0, len(f.s))
	for _, e := range f.s {
		out = append(out, e.Val)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Join implements Embedded.
func (f *MVField) Join(ctx *CausalContext, other Embedded, otherCtx *CausalContext) Embedded {
	var o dotFun[string]
	if of, ok := other.(*MVField); ok && of != nil {
		o = of.s
	}
	f.s = joinFun(f.s, ctx, o, otherCtx)
	return f
}

// Dots implements Embedded.
func (f *MVField) Dots(fn func(Dot)) {
	for _, e := range f.s {
		fn(e.Dot)
	}
}

// Empty implements Embedded.
func (f *MVField) Empty() bool { return len(f.s) == 0 }

// Clone implements Embedded.
func (f *MVField) Clone() Embedded { return &MVField{s: f.s} }

// Encode implements Embedded.
func (f *MVField) Encode(w *Writer) { writeFun(w, f.s, w.String) }

// set computes the delta of writing v as node.
func (f *MVField) set(node NodeID, ctx *CausalContext, v string) (*MVField, *CausalContext) {
	d := ctx.Next(node)
	dctx := contextOf(d)
	f.s.addDots(dctx)
	return &MVField{s: dotFun[string]{{d, v}}}, dctx
}

func decodeMVField(r *Reader, ctx *CausalContext, _ *Registry) (Embedded, error) {
	return &MVField{s: readFun(r, ctx, r.String)}, nil
}

// lwwVal is one write in an LWWField.
type lwwVal struct {
	TS Timestamp
	V  string
}

// LWWField is a causal last-writer-wins register store: writes that have
// seen each other replace each other; among concurrent writes the greatest
// (timestamp, dot) wins the read, and the losers are dropped by the next
// write.
type LWWField struct{ s dotFun[lwwVal] }

// Tag implements Embedded.
func (f *LWWField) Tag() Tag { return TagLWW }

// Value returns the winning value and its timestamp.
func (f *LWWField) Value() (string, Timestamp, bool) {
	if len(f.s) == 0 {
		return "", Timestamp{}, false
	}
	best := f.s[0]
	for _, e := range f.s[1:] {
		c := e.Val.TS.Compare(best.Val.TS)
		if c > 0 || (c == 0 && compareDots(e.Dot, best.Dot) > 0) {
			best = e
		}
	}
	return best.Val.V, best.Val.TS, true
}

// Join implements Embedded.
func (f *LWWField) Join(ctx *CausalContext, other Embedded, otherCtx *CausalContext) Embedded {
	var o dotFun[lwwVal]
	if of, ok := other.(*LWWField); ok && of != nil {
		o = of.s
	}
	f.s = joinFun(f.s, ctx, o, otherCtx)
	return f
}

// Dots implements Embedded.
func (f *LWWField) Dots(fn func(Dot)) {
	for _, e := range f.s {
		fn(e.Dot)
	}
}

// Empty implements Embedded.
func (f *LWWField) Empty() bool { return len(f.s) == 0 }

// Clone implements Embedded.
func (f *LWWField) Clone() Embedded { return &LWWField{s: f.s} }

// Encode implements Embedded.
func (f *LWWField) Encode(w *Writer) {
	writeFun(w, f.s, func(v lwwVal) {
		w.Timestamp(v.TS)
		w.String(v.V)
	})
}

func (f *LWWField) set(node NodeID, ctx *CausalContext, v string, ts Timestamp) (*LWWField, *CausalContext) {
	d := ctx.Next(node)
	dctx := contextOf(d)
	f.s.addDots(dctx)
	return &LWWField{s: dotFun[lwwVal]{{d, lwwVal{ts, v}}}}, dctx
}

func decodeLWWField(r *Reader, ctx *CausalContext, _ *Registry) (Embedded, error) {
	return &LWWField{s: readFun(r, ctx, func() lwwVal { return lwwVal{r.Timestamp(), r.String()} })}, nil
}

// pn is one node's cumulative increments and decrements.
type pn struct{ P, N uint64 }

// CounterField is a causal PN counter store (the paper's CCounter): each
// node keeps one dot carrying its cumulative increments and decrements, and
// replaces it on every update. Removing the field drops the observed dots;
// an update concurrent with the removal survives with its node's full
// cumulative contribution (observed-reset semantics).
type CounterField struct{ s dotFun[pn] }

// Tag implements Embedded.
func (f *CounterField) Tag() Tag { return TagCounter }

// Value returns the sum of increments minus decrements.
func (f *CounterField) Value() int64 {
	var p, n uint64
	for _, e := range f.s {
		p += e.Val.P
		n += e.Val.N
	}
	return int64(p - n)
}

// Join implements Embedded.
func (f *CounterField) Join(ctx *CausalContext, other Embedded, otherCtx *CausalContext) Embedded {
	var o dotFun[pn]
	if of, ok := other.(*CounterField); ok && of != nil {
		o = of.s
	}
	f.s = joinFun(f.s, ctx, o, otherCtx)
	return f
}

// Dots implements Embedded.
func (f *CounterField) Dots(fn func(Dot)) {
	for _, e := range f.s {
		fn(e.Dot)
	}
}

// Empty implements Embedded.
func (f *CounterField) Empty() bool { return len(f.s) == 0 }

// Clone implements Embedded.
func (f *CounterField) Clone() Embedded { return &CounterField{s: f.s} }

// Encode implements Embedded.
func (f *CounterField) Encode(w *Writer) {
	writeFun(w, f.s, func(v pn) {
		w.Uvarint(v.P)
		w.Uvarint(v.N)
	})
}

func (f *CounterField) add(node NodeID, ctx *CausalContext, by int64) (*CounterField, *CausalContext) {
	d := ctx.Next(node)
	dctx := contextOf(d)
	var cur pn
	var curDot Dot
	for _, e := range f.s {
		if e.Dot.Node == node {
			dctx.Add(e.Dot)
			if e.Dot.Counter > curDot.Counter {
				cur, curDot = e.Val, e.Dot
			}
		}
	}
	if by >= 0 {
		cur.P += uint64(by)
	} else {
		cur.N += uint64(-(by + 1)) + 1
	}
	return &CounterField{s: dotFun[pn]{{d, cur}}}, dctx
}

func decodeCounterField(r *Reader, ctx *CausalContext, _ *Registry) (Embedded, error) {
	return &CounterField{s: readFun(r, ctx, func() pn { return pn{r.Uvarint(), r.Uvarint()} })}, nil
}

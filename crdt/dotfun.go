package crdt

import "slices"

// entry pairs a dot with the immutable payload written under it.
type entry[V any] struct {
	Dot Dot
	Val V
}

// dotFun is a dot store mapping dots to payloads (a DotFun in the paper; a
// DotSet when V is struct{}). Entries are sorted by dot with no duplicates.
// A dotFun slice is never modified in place once built, so stores may share
// it freely.
type dotFun[V any] []entry[V]

// filter returns the entries of s whose dots are not in ctx. It returns s
// itself when nothing is dropped.
func (s dotFun[V]) filter(ctx *CausalContext) dotFun[V] {
	for i, e := range s {
		if ctx.Contains(e.Dot) {
			out := make(dotFun[V], i, len(s)-1)
			copy(out, s[:i])
			for _, e := range s[i+1:] {
				if !ctx.Contains(e.Dot) {
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

// joinFun joins the dot stores (s, c) and (o, oc): a dot survives if both
// sides hold it, or one side holds it and the other side has not seen it.
func joinFun[V any](s dotFun[V], c *CausalContext, o dotFun[V], oc *CausalContext) dotFun[V] {
	if len(o) == 0 {
		return s.filter(oc)
	}
	if len(s) == 0 {
		return o.filter(c)
	}
	if len(s) == 1 && len(o) == 1 && s[0].Dot == o[0].Dot {
		return s
	}
	out := make(dotFun[V], 0, len(s)+len(o))
	i, j := 0, 0
	for i < len(s) || j < len(o) {
		switch {
		case j == len(o) || (i < len(s) && compareDots(s[i].Dot, o[j].Dot) < 0):
			if !oc.Contains(s[i].Dot) {
				out = append(out, s[i])
			}
			i++
		case i == len(s) || compareDots(s[i].Dot, o[j].Dot) > 0:
			if !c.Contains(o[j].Dot) {
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

// addDots adds every dot of s to ctx.
func (s dotFun[V]) addDots(ctx *CausalContext) {
	for _, e := range s {
		ctx.Add(e.Dot)
	}
}

// sorted reports whether the entries are strictly increasing by dot.
func (s dotFun[V]) sorted() bool {
	for i := 1; i < len(s); i++ {
		if compareDots(s[i-1].Dot, s[i].Dot) >= 0 {
			return false
		}
	}
	return true
}

// reindex updates where, an index from dot to the key holding it, after the
// entry under k changed from old to ns (both sorted).
func reindex[K comparable, V any](where map[Dot]K, k K, old, ns dotFun[V]) {
	if len(old) == len(ns) && (len(old) == 0 || &old[0] == &ns[0]) {
		return
	}
	i, j := 0, 0
	for i < len(old) || j < len(ns) {
		switch {
		case j == len(ns) || (i < len(old) && compareDots(old[i].Dot, ns[j].Dot) < 0):
			delete(where, old[i].Dot)
			i++
		case i == len(old) || compareDots(old[i].Dot, ns[j].Dot) > 0:
			where[ns[j].Dot] = k
			j++
		default:
			i++
			j++
		}
	}
}

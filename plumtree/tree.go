package plumtree

import (
	"slices"

	"github.com/hearsay-mesh/hearsay/membership"
)

// split divides the neighbours into eager and lazy: it lists the lazy ones
// (sorted); every other neighbour is eager, so a new neighbour starts eager.
type split struct {
	lazy  []membership.NodeID
	stamp uint64 // last use, for the per-origin LRU
}

func (s *split) isLazy(p membership.NodeID) bool {
	_, ok := slices.BinarySearch(s.lazy, p)
	return ok
}

// set makes p lazy (true) or eager (false) and reports whether it changed.
func (s *split) set(p membership.NodeID, lazy bool) bool {
	i, ok := slices.BinarySearch(s.lazy, p)
	switch {
	case lazy && !ok:
		s.lazy = slices.Insert(s.lazy, i, p)
		return true
	case !lazy && ok:
		s.lazy = slices.Delete(s.lazy, i, i+1)
		return true
	}
	return false
}

// trees holds the shared split and, with Config.PerOriginTrees, one split
// per origin forked from the shared one when the origin is first used.
// Every change is applied to the origin's split and to the shared split, so
// the shared split is the template a new origin starts from: the tree the
// paper's single-tree plumtree would have.
type trees struct {
	shared    split
	perOrigin bool
	max       int
	byOrigin  map[membership.NodeID]*split
	clock     uint64
	lru       []lruEntry // touches in order; stale ones skipped on eviction
	evicted   uint64
}

type lruEntry struct {
	origin membership.NodeID
	stamp  uint64
}

func newTrees(perOrigin bool, max int) trees {
	return trees{perOrigin: perOrigin, max: max, byOrigin: map[membership.NodeID]*split{}}
}

// get returns the split that governs messages from origin.
func (t *trees) get(origin membership.NodeID) *split {
	if !t.perOrigin {
		return &t.shared
	}
	t.clock++
	s := t.byOrigin[origin]
	if s == nil {
		for len(t.byOrigin) >= t.max {
			t.evictOne()
		}
		s = &split{lazy: slices.Clone(t.shared.lazy)}
		t.byOrigin[origin] = s
	}
	s.stamp = t.clock
	t.lru = append(t.lru, lruEntry{origin, t.clock})
	if len(t.lru) > 4*t.max+64 {
		t.compactLRU()
	}
	return s
}

// setLazy moves p to the lazy (true) or eager (false) set of origin's
// tree, and of the shared template; it reports whether origin's changed.
func (t *trees) setLazy(origin, p membership.NodeID, lazy bool) bool {
	s := t.get(origin)
	changed := s.set(p, lazy)
	if s != &t.shared {
		t.shared.set(p, lazy)
	}
	return changed
}

func (t *trees) evictOne() {
	for len(t.lru) > 0 {
		e := t.lru[0]
		t.lru = t.lru[1:]
		if s := t.byOrigin[e.origin]; s != nil && s.stamp == e.stamp {
			delete(t.byOrigin, e.origin)
			t.evicted++
			return
		}
	}
}

func (t *trees) compactLRU() {
	kept := t.lru[:0]
	for _, e := range t.lru {
		if s := t.byOrigin[e.origin]; s != nil && s.stamp == e.stamp {
			kept = append(kept, e)
		}
	}
	t.lru = kept
}

// removePeer forgets p in every split (it is no longer a neighbour; if it
// comes back it starts eager).
func (t *trees) removePeer(p membership.NodeID) {
	t.shared.set(p, false)
	for _, s := range t.byOrigin { // order does not matter: each split is independent
		s.set(p, false)
	}
}

// peekOrShared returns origin's split without creating or touching it,
// or the shared one.
func (t *trees) peekOrShared(origin membership.NodeID) *split {
	if s := t.byOrigin[origin]; t.perOrigin && s != nil {
		return s
	}
	return &t.shared
}

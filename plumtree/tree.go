package plumtree

import (
	"slices"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
)

// split divides the neighbours into eager and lazy: it lists the lazy ones
// (sorted); every other neighbour is eager, so a new neighbour starts eager.
type split struct {
	lazy  []membership.NodeID
	stamp uint64 // last use, for the per-origin LRU
	// parent is the neighbour whose push delivered the tree's latest new
	// message ("" before any, or after it went down; the node itself once
	// it broadcast in this tree): a node whose parent is up and eager is
	// connected to the tree. orphan says the parent went down.
	parent membership.NodeID
	orphan bool
	// cands is the optimisation's evidence: per lazy peer, how many
	// consecutive messages it announced with a path shorter by the
	// threshold (see confirm).
	cands []candidate
	// msgs counts the new messages this split carried (delivered or
	// broadcast here), up to 2: a per-origin split is young while it has
	// carried at most one (see trees.mirror).
	msgs int
	// newest is the highest sequence number this split carried (per-origin
	// splits; see trees.older); pushedAt is when a neighbour's push (not
	// a GRAFT answer) last delivered one of its messages, and pushed says
	// one ever did (see trees.catchUp).
	newest   uint64
	pushedAt time.Duration
	pushed   bool
}

type candidate struct {
	peer membership.NodeID
	last MessageID // the latest message counted, so a repeat is not counted twice
	hits int
}

// confirm records one announcement by lazy peer of message id, shorter
// than the delivering path by the threshold (adv) or not, and reports
// whether peer's path was shorter on need consecutive messages it
// announced. Any announcement without the advantage resets the count:
// with a shared tree serving many senders, a peer that is closer to one
// origin and farther from another is never swapped in, so the tree does
// not oscillate; a real shortcut (closer for the origins that send) is.
func (s *split) confirm(id MessageID, peer membership.NodeID, adv bool, need int) bool {
	i := slices.IndexFunc(s.cands, func(c candidate) bool { return c.peer == peer })
	if !adv {
		if i >= 0 {
			s.cands = slices.Delete(s.cands, i, i+1)
		}
		return false
	}
	if i < 0 {
		s.cands = append(s.cands, candidate{peer: peer})
		i = len(s.cands) - 1
	}
	c := &s.cands[i]
	if c.hits > 0 && c.last == id {
		return false
	}
	c.last = id
	c.hits++
	if c.hits >= need {
		s.cands = slices.Delete(s.cands, i, i+1)
		return true
	}
	return false
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
//
// With per-origin trees the shared split is the template a new origin
// starts from, and it learns only from young origins (see mirror): every
// change to an origin's split while that split has carried at most one
// message is made to the template too, so the template is the tree a
// single shared tree would be for senders that send once, and an origin
// that keeps sending reshapes only its own tree. (Mirroring every origin's
// changes, as this did before, made the template the intersection of all
// origins' trees: PRUNEs of one origin's redundant links cut links other
// origins' trees used, and a new origin's first message then went by
// IHAVE and GRAFT; 500 simulated nodes with a new sender per message had
// RMR 0.17 and reliability 0.988 against 0 and 1 with a shared tree.)
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

// mirror reports whether a change to s, an origin's split, is made to the
// shared template too: s is a per-origin split that has carried at most
// one message.
func (t *trees) mirror(s *split) bool { return s != &t.shared && s.msgs <= 1 }

// setLazy moves p to the lazy (true) or eager (false) set of origin's
// tree (and of the template, see mirror); it reports whether origin's
// changed.
func (t *trees) setLazy(origin, p membership.NodeID, lazy bool) bool {
	s := t.get(origin)
	changed := s.set(p, lazy)
	if t.mirror(s) {
		t.shared.set(p, lazy)
	}
	return changed
}

// evidence returns the split whose optimisation evidence counts for a
// message of origin: the template while origin's split is young (a
// sender seen once gives one announcement at most; the senders that send
// once shape the template together, as in a single shared tree), else
// origin's own.
func (t *trees) evidence(origin membership.NodeID) *split {
	if s := t.get(origin); !t.mirror(s) {
		return s
	}
	return &t.shared
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
	t.shared.forget(p)
	for _, s := range t.byOrigin { // order does not matter: each split is independent
		s.forget(p)
	}
}

func (s *split) forget(p membership.NodeID) {
	s.set(p, false)
	s.cands = slices.DeleteFunc(s.cands, func(c candidate) bool { return c.peer == p })
	if s.parent == p {
		s.parent, s.orphan = "", true
	}
}

// setParent records that p's push delivered new message id (p is the node
// itself when it broadcast the message).
func (t *trees) setParent(id MessageID, p membership.NodeID) {
	s := t.get(id.Origin)
	s.msgs = min(s.msgs+1, 2)
	s.newest = max(s.newest, id.Seq)
	s.parent, s.orphan = p, false
	if t.mirror(s) {
		t.shared.parent, t.shared.orphan = p, false
	}
}

// older reports whether id is older than the newest message its origin's
// own tree carried here: a straggler (delivered late, or asked for to
// fill a hole), which says nothing about the tree's current links. Only
// per-origin trees know this; the shared tree carries every origin.
//
// An orphan (its parent went down) has no tree to be a straggler on: its
// next delivery, old or not, re-attaches it. Without that, one sequence
// number above the origin's real ones (a forged one, or the origin
// restarted with its clock stepped back) made every later message a
// straggler, so no delivery or GRAFT ever made a link eager again and the
// tree never healed.
func (t *trees) older(id MessageID) bool {
	s := t.byOrigin[id.Origin]
	return t.perOrigin && s != nil && !s.orphan && id.Seq < s.newest
}

// pushedBy records that a neighbour's push, not a GRAFT answer, delivered
// a message of origin at now.
func (t *trees) pushedBy(origin membership.NodeID, now time.Duration) {
	if s := t.byOrigin[origin]; t.perOrigin && s != nil {
		s.pushedAt, s.pushed = now, true
	}
}

// catchUp reports whether a missing message id is asked for with a
// catch-up GRAFT (the link stays as it is): it is older than the newest of
// its origin's tree, and that tree is delivering here (a push delivered
// one of its messages within window). Otherwise the GRAFT attaches the
// link, as in the paper: a node the tree no longer reaches must be
// re-attached whatever the sequence numbers say.
func (t *trees) catchUp(id MessageID, now, window time.Duration) bool {
	s := t.byOrigin[id.Origin]
	return t.older(id) && s.pushed && now-s.pushedAt <= window
}

// straggler reports whether a duplicate of id from p is a straggler on the
// tree link itself: p is the parent of id's origin's tree and id is older
// than that tree's newest message (p got it late, by repair, and forwarded
// it on the link an optimisation had just grafted). Pruning p for it cut
// the node off: lazy at every neighbour, it then waited for its GRAFT
// timer on every message (1,000 simulated nodes after an 80% crash: one
// node late in every cycle).
func (t *trees) straggler(id MessageID, p membership.NodeID) bool {
	return t.older(id) && t.byOrigin[id.Origin].parent == p
}

// swapParent records that an optimisation made p origin's parent.
func (t *trees) swapParent(origin, p membership.NodeID) {
	s := t.get(origin)
	s.parent, s.orphan = p, false
	if t.mirror(s) {
		t.shared.parent, t.shared.orphan = p, false
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

// newLink makes the new neighbour p lazy in every split where it may start
// lazy (see startLazy). It returns in how many splits p became lazy.
func (t *trees) newLink(p, self membership.NodeID, peers []membership.NodeID) uint64 {
	var n uint64
	if t.shared.startLazy(p, self, peers) {
		t.shared.set(p, true)
		n++
	}
	for _, s := range t.byOrigin { // each split independently: order does not matter
		if s.startLazy(p, self, peers) {
			s.set(p, true)
			n++
		}
	}
	return n
}

// startLazy reports whether a new link p starts lazy in s: whenever s has
// carried traffic (it has, or had until it went down, a parent), except
// at a root left without another eager link. A new link is redundant while
// the node is connected to the tree; and where the node's parent went down
// (an orphan), the next message reaches it by IHAVE and a GRAFT at the
// next tick (an orphan does not wait for the tree, see announced), which
// makes the link it came by eager. Taking new
// links eager in orphaned trees instead, as before 2026-12-07, pushed each
// message into every link the overlay made while healing: after 40% of
// 1,000 simulated nodes crashed, RMR 0.25 / 0.22 / 0.11 in the three
// cycles after the crash, against 0.08 / 0.04 / 0.02 this way, with
// reliability 1 from the second cycle either way (docs/plumtree.md).
// A tree that has carried nothing takes new links eager, so the first
// broadcast builds the paper's tree; so does a root whose other eager links
// are gone, since nobody would push its next message.
func (s *split) startLazy(p membership.NodeID, self membership.NodeID, peers []membership.NodeID) bool {
	if s.parent == self {
		for _, q := range peers {
			if q != p && !s.isLazy(q) {
				return true
			}
		}
		return false
	}
	return s.orphan || s.parent != ""
}

package plumtree

import (
	"slices"
	"testing"

	"github.com/hearsay-mesh/hearsay/membership"
)

// lateAnswerCore is a core with neighbours a (the parent of origin o's
// tree, which delivered o#1) and b (lazy in o's tree), which has just
// grafted o#2 from b after b's IHAVE: a's copy of o#2 is still on its way.
func lateAnswerCore(t *testing.T) *Core {
	t.Helper()
	cfg := TestConfig()
	cfg.AnnounceRecent, cfg.CatchUpSpan = 0, 0
	c := newTestCore(t, cfg, "a", "b")
	mustStep(t, c, 0, "b", pruneMsg("o"))
	mustStep(t, c, ms, "a", gossipMsg("o", 1, 1, "p1"))
	mustStep(t, c, 2*ms, "b", ihaveMsg("o", 2, 1))
	c.Ready()
	now := 2 * ms
	for ; now < cfg.GraftTimeoutMax; now += cfg.TickInterval {
		c.Tick(now)
		if got := kinds(c.Ready()); slices.Contains(got, "b:graft") {
			break
		}
	}
	if !slices.Contains(c.EagerPeers("o"), "b") {
		t.Fatalf("b not eager after the GRAFT")
	}
	return c
}

// The tree's copy arrives before the answer to a repair GRAFT: the answer
// is no duplicate to prune the tree for, but the grafted link is now a
// second way in, on which the next message would cross; it is pruned, and
// the tree's parent stays eager.
func TestLateGraftAnswerPruned(t *testing.T) {
	c := lateAnswerCore(t)
	now := c.lastTick + ms
	mustStep(t, c, now, "a", gossipMsg("o", 2, 1, "p2"))
	if d := deliveredIn(c.Ready()); len(d) != 1 {
		t.Fatalf("delivered %d, want 1", len(d))
	}
	mustStep(t, c, now+ms, "b", gossipMsg("o", 2, 2, "p2"))
	if got := kinds(c.Ready()); !slices.Equal(got, []string{"b:prune"}) {
		t.Fatalf("late GRAFT answer: sent %v, want b:prune", got)
	}
	if !slices.Equal(c.LazyPeers("o"), []membership.NodeID{"b"}) || !slices.Equal(c.EagerPeers("o"), []membership.NodeID{"a"}) {
		t.Fatalf("lazy %v eager %v; want lazy [b], eager [a]", c.LazyPeers("o"), c.EagerPeers("o"))
	}
	if got := c.Stats().LateAnswersPruned; got != 1 {
		t.Fatalf("LateAnswersPruned %d, want 1", got)
	}
}

// The answer from the peer that is the tree's parent by now (it pushed a
// newer message meanwhile) is never pruned; nor is an answer for a
// message older than the tree's newest (a straggler).
func TestLateGraftAnswerFromParentOrStragglerKept(t *testing.T) {
	c := lateAnswerCore(t)
	now := c.lastTick + ms
	mustStep(t, c, now, "a", gossipMsg("o", 2, 1, "p2"))
	mustStep(t, c, now+ms, "b", gossipMsg("o", 3, 1, "p3")) // b is the parent now; o#2 is older
	c.Ready()
	mustStep(t, c, now+2*ms, "b", gossipMsg("o", 2, 2, "p2"))
	if got := kinds(c.Ready()); len(got) != 0 {
		t.Fatalf("late answer from the parent: sent %v, want nothing", got)
	}
	if !slices.Contains(c.EagerPeers("o"), "b") {
		t.Fatalf("the parent b was made lazy")
	}
}

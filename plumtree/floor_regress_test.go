package plumtree

import (
	"fmt"
	"testing"

	"github.com/hearsay-mesh/hearsay/membership"
)

// A message that arrives out of order (o#2 by the tree, o#1 announced and
// being grafted) is delivered when it comes, even if o#2 was evicted
// meanwhile (the count bound) and raised o's floor to 2: it was dropped as
// "seen" although never delivered, and its GRAFTs went on for nothing.
func TestOutOfOrderMessageBelowTheFloorIsDelivered(t *testing.T) {
	cfg := TestConfig() // CacheSize 256
	c := newTestCore(t, cfg, "a", "b")
	now := ms
	mustStep(t, c, now, "b", ihaveMsg("o", 1, 1)) // o#1 announced, missing
	mustStep(t, c, now, "a", gossipMsg("o", 2, 1, "two"))
	// Other origins' traffic fills the cache: o#2 is evicted, floor(o)=2.
	for i := 0; i < cfg.CacheSize; i++ {
		mustStep(t, c, now, "a", gossipMsg(membership.NodeID(fmt.Sprintf("x%d", i)), 1, 1, "x"))
	}
	c.Ready()
	// The GRAFT answer (or the tree's late copy) of o#1 arrives.
	mustStep(t, c, now+ms, "b", gossipMsg("o", 1, 2, "one"))
	for _, d := range deliveredIn(c.Ready()) {
		if d.ID == (MessageID{"o", 1}) {
			return
		}
	}
	t.Fatalf("o#1 was never delivered (StaleDropped=%d, still missing=%v)", c.Stats().StaleDropped, c.missing[MessageID{"o", 1}] != nil)
}

// A peer that is not a neighbour may fill at most half the missing-message
// table with its IHAVEs: a stranger announcing made-up IDs filled all of
// it, and then a neighbour's announcement of a message the tree lost was
// dropped and never repaired.
func TestStrangersFillAtMostHalfTheMissingTable(t *testing.T) {
	cfg := TestConfig()
	c := newTestCore(t, cfg, "a", "b")
	for i := 1; i <= cfg.MaxMissing; i++ {
		mustStep(t, c, ms, "evil", ihaveMsg("fake", uint64(i), 1))
	}
	if n := len(c.missing); n != cfg.MaxMissing/2 {
		t.Fatalf("a stranger's IHAVEs fill %d entries of %d, want half", n, cfg.MaxMissing)
	}
	mustStep(t, c, ms, "a", ihaveMsg("o", 1, 1))
	if c.missing[MessageID{"o", 1}] == nil {
		t.Fatal("a neighbour's announcement was dropped")
	}
}

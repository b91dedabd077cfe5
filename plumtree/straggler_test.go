package plumtree

import (
	"slices"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/plumtree/pb"
)

// stragglerCore is a per-origin core with neighbours a (the parent of
// origin o's tree, which delivered o#1 and o#3) and b (lazy in o's tree).
func stragglerCore(t *testing.T) *Core {
	t.Helper()
	cfg := TestConfig()
	cfg.PerOriginTrees = true
	cfg.AnnounceRecent, cfg.CatchUpSpan = 0, 0
	c := newTestCore(t, cfg, "a", "b")
	mustStep(t, c, 0, "b", pruneMsg("o"))
	mustStep(t, c, ms, "a", gossipMsg("o", 1, 1, "p1"))
	mustStep(t, c, 2*ms, "a", gossipMsg("o", 3, 1, "p3"))
	c.Ready()
	return c
}

// A message older than the newest of its origin's tree, pushed by a peer
// that had it late, is delivered and passed on but does not reshape the
// tree: the pusher does not become eager or parent.
func TestStragglerDeliveredWithoutReshapingTree(t *testing.T) {
	c := stragglerCore(t)
	mustStep(t, c, 3*ms, "b", gossipMsg("o", 2, 4, "p2"))
	if got := deliveredIn(c.Ready()); len(got) != 1 || got[0].ID.Seq != 2 {
		t.Fatalf("delivered %+v, want o#2", got)
	}
	if !slices.Equal(c.LazyPeers("o"), []membership.NodeID{"b"}) || c.trees.byOrigin["o"].parent != "a" {
		t.Fatalf("a straggler reshaped the tree: lazy %v, parent %q; want [b], a", c.LazyPeers("o"), c.trees.byOrigin["o"].parent)
	}
}

// A duplicate of an old message from the tree's parent is not a reason to
// prune it; one from another peer still is.
func TestStragglerDuplicateFromParentNotPruned(t *testing.T) {
	c := stragglerCore(t)
	mustStep(t, c, 3*ms, "a", gossipMsg("o", 1, 1, "p1"))
	if got := kinds(c.Ready()); len(got) != 0 || c.Stats().StaleDuplicates != 1 {
		t.Fatalf("old duplicate from the parent: sent %v, StaleDuplicates %d; want nothing, 1", got, c.Stats().StaleDuplicates)
	}
	mustStep(t, c, 4*ms, "b", gossipMsg("o", 3, 1, "p3"))
	if got := kinds(c.Ready()); !slices.Equal(got, []string{"b:prune"}) {
		t.Fatalf("duplicate from a non-parent: sent %v, want b:prune", got)
	}
}

// A node connected to a tree asks for an old message it lacks with a
// catch-up GRAFT, which changes the link at neither end.
func TestCatchUpGraftKeepsLinks(t *testing.T) {
	c := stragglerCore(t)
	mustStep(t, c, 3*ms, "b", ihaveMsg("o", 2, 2))
	var sent []membership.Send // the GRAFTs (the ticks also send IHAVEs to b)
	for now := 3 * ms; now < c.cfg.GraftTimeoutMax && sent == nil; now += c.cfg.TickInterval {
		c.Tick(now)
		for _, s := range c.Ready().Sends {
			if s.Msg.(*pb.Envelope).GetGraft() != nil {
				sent = append(sent, s)
			}
		}
	}
	if len(sent) != 1 || sent[0].To != "b" {
		t.Fatalf("sent %v, want one GRAFT to b", sent)
	}
	g := sent[0].Msg.(*pb.Envelope).GetGraft()
	if g == nil || !g.GetCatchUp() || len(g.GetIds()) != 1 {
		t.Fatalf("sent %v, want a catch-up GRAFT for o#2", sent[0].Msg)
	}
	if !slices.Equal(c.LazyPeers("o"), []membership.NodeID{"b"}) {
		t.Fatalf("a catch-up GRAFT made b eager: lazy %v", c.LazyPeers("o"))
	}
	// The granter answers and keeps its link as it was.
	d := newTestCore(t, c.cfg, "n")
	mustStep(t, d, 0, "n", pruneMsg("o"))
	mustStep(t, d, ms, "x", gossipMsg("o", 2, 1, "p2")) // x: not a neighbour; d has o#2
	d.Ready()
	mustStep(t, d, 2*ms, "n", &pb.Envelope{Body: &pb.Envelope_Graft{Graft: g}})
	if got := kinds(d.Ready()); !slices.Equal(got, []string{"n:gossip"}) {
		t.Fatalf("granter sent %v, want n:gossip", got)
	}
	if !slices.Equal(d.LazyPeers("o"), []membership.NodeID{"n"}) {
		t.Fatalf("a catch-up GRAFT made the granter's link eager: lazy %v", d.LazyPeers("o"))
	}
	// A catch-up GRAFT naming trees is malformed.
	bad := &pb.Envelope{Body: &pb.Envelope_Graft{Graft: &pb.Graft{Ids: g.GetIds(), Origins: [][]byte{[]byte("o")}, CatchUp: true}}}
	if err := d.Step(3*ms, "n", bad); err == nil {
		t.Fatal("a catch-up GRAFT naming origins was accepted")
	}
}

// One sequence number far above the origin's real ones (forged, or the
// origin restarted with its clock stepped back) made every later message
// a straggler, so a node whose parent went down fetched every message by
// IHAVE, timer and catch-up GRAFT, for good. The first repair must
// re-attach it, as without the forged number.
func TestInflatedSequenceDoesNotStopRepair(t *testing.T) {
	for _, forge := range []bool{false, true} {
		cfg := TestConfig()
		cfg.PerOriginTrees = true
		cfg.AnnounceRecent, cfg.CatchUpSpan = 0, 0
		c := newTestCore(t, cfg, "a", "h")
		now := ms
		mustStep(t, c, now, "a", gossipMsg("o", 1, 1, "p"))
		if forge {
			mustStep(t, c, now, "h", gossipMsg("o", 1<<62, 1, "forged"))
		}
		c.Ready()
		c.NeighborDown(now, membership.Node{ID: "a"})
		c.NeighborDown(now, membership.Node{ID: "h"})
		c.NeighborUp(now, membership.Node{ID: "l"})
		grafts := 0
		for seq := uint64(2); seq < 12; seq++ {
			now += cfg.TickInterval
			if !c.trees.peekOrShared("o").isLazy("l") {
				mustStep(t, c, now, "l", gossipMsg("o", seq, 2, "p"))
				c.Ready()
				continue
			}
			mustStep(t, c, now, "l", ihaveMsg("o", seq, 1))
			var graft *pb.Graft
			for ; graft == nil && now < time.Minute; now += cfg.TickInterval {
				c.Tick(now)
				for _, s := range c.Ready().Sends {
					if g := s.Msg.(*pb.Envelope).GetGraft(); g != nil {
						graft = g
					}
				}
			}
			if graft == nil {
				t.Fatalf("forge=%v: no GRAFT for o#%d", forge, seq)
			}
			grafts++
			mustStep(t, c, now, "l", gossipMsg("o", seq, 2, "p"))
			c.Ready()
		}
		if grafts != 1 {
			t.Errorf("forge=%v: %d of 10 messages needed a GRAFT, want 1 (the repair re-attaches the node)", forge, grafts)
		}
	}
}

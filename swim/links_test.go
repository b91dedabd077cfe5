package swim_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/swim"
	"github.com/hearsay-mesh/hearsay/swim/pb"
)

// gossipTargets ticks c for rounds gossip intervals from *now and returns
// the targets of each round's gossip messages. Before each round a new
// update (m19 at a higher incarnation) keeps the queue from running dry.
func gossipTargets(t *testing.T, c *swim.Core, now *time.Duration, rounds int) [][]membership.NodeID {
	t.Helper()
	var out [][]membership.NodeID
	for range rounds {
		*now += swim.DefaultTestConfig().GossipInterval
		inc := uint64(*now/time.Millisecond) + 1
		up := &pb.Envelope{Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{}},
			Updates: []*pb.Member{{Id: "m19", Incarnation: inc, State: pb.State_STATE_ALIVE}}}
		if err := c.Step(*now, "m19", up); err != nil {
			t.Fatal(err)
		}
		c.Tick(*now)
		var round []membership.NodeID
		for _, s := range c.Ready().Sends {
			if env, ok := s.Msg.(*pb.Envelope); ok && env.GetGossip() != nil {
				round = append(round, s.To)
			}
		}
		out = append(out, round)
	}
	return out
}

// TestGossipGoesOverLinksFirst: with enough linked members every gossip
// round goes to linked ones only; with fewer, the linked one is always in
// the round and the rest are others; a link that went down is not used.
func TestGossipGoesOverLinksFirst(t *testing.T) {
	linked := []membership.NodeID{"m03", "m07", "m11", "m15"}
	a := coreWithLinks(t, linked)
	a.LinkUp("a")      // self: ignored
	a.LinkUp("nobody") // not a member: never picked
	fanout := swim.DefaultTestConfig().GossipFanout
	now := time.Duration(0)
	seen := map[membership.NodeID]bool{}
	for _, round := range gossipTargets(t, a, &now, 6) {
		if len(round) != fanout {
			t.Fatalf("round %v: want %d targets", round, fanout)
		}
		for _, id := range round {
			if !slices.Contains(linked, id) {
				t.Fatalf("round %v: %s is not linked (links %v)", round, id, linked)
			}
			seen[id] = true
		}
	}
	if len(seen) < 2 {
		t.Fatalf("always the same linked targets %v: not random among links", seen)
	}
	for _, id := range linked[1:] {
		a.LinkDown(id)
	}
	for _, round := range gossipTargets(t, a, &now, 6) {
		if len(round) != fanout || !slices.Contains(round, linked[0]) {
			t.Fatalf("round %v: want %d targets including the one link %s", round, fanout, linked[0])
		}
		for _, id := range round {
			if id == "nobody" || id == "a" {
				t.Fatalf("round %v: picked %s", round, id)
			}
		}
	}
}

// coreWithLinks returns a core that knows m00..m19 and is linked to
// linked (all members).
func coreWithLinks(t *testing.T, linked []membership.NodeID) *swim.Core {
	t.Helper()
	a := newCore(t, "a")
	env := &pb.Envelope{Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{}}}
	for i := range 20 {
		env.Updates = append(env.Updates, &pb.Member{Id: fmt.Sprintf("m%02d", i), Incarnation: 1, State: pb.State_STATE_ALIVE})
	}
	if err := a.Step(0, "m00", env); err != nil {
		t.Fatal(err)
	}
	a.Ready()
	for _, id := range linked {
		a.LinkUp(id)
	}
	return a
}

// TestRefutationGoesOverLinksFirst: the copies of a refutation sent at
// once (besides the suspector's) go to linked members while there are
// enough of them, so refuting costs no new connections.
func TestRefutationGoesOverLinksFirst(t *testing.T) {
	linked := []membership.NodeID{"m03", "m07", "m11", "m15"}
	a := coreWithLinks(t, linked)
	k := swim.DefaultTestConfig().IndirectChecks
	seen := map[membership.NodeID]bool{}
	now := time.Duration(0)
	for round := range 8 {
		now += 10 * time.Millisecond
		inc := a.Incarnation()
		sus := &pb.Envelope{Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{}},
			Updates: []*pb.Member{{Id: "a", Incarnation: inc, State: pb.State_STATE_SUSPECT, From: "m05"}}}
		if err := a.Step(now, "m05", sus); err != nil {
			t.Fatal(err)
		}
		if a.Incarnation() <= inc {
			t.Fatalf("round %d: no refutation (incarnation %d)", round, a.Incarnation())
		}
		var to []membership.NodeID
		for _, s := range a.Ready().Sends {
			env, ok := s.Msg.(*pb.Envelope)
			if !ok || env.GetGossip() == nil || len(env.Updates) == 0 || env.Updates[0].Id != "a" {
				continue
			}
			if s.To == "m05" {
				continue
			}
			if !slices.Contains(linked, s.To) {
				t.Fatalf("round %d: refutation sent to %s, not linked (links %v)", round, s.To, linked)
			}
			seen[s.To] = true
			to = append(to, s.To)
		}
		if len(to) != k {
			t.Fatalf("round %d: refutation went to %v besides the suspector, want %d linked members", round, to, k)
		}
	}
	if len(seen) < 2 {
		t.Fatalf("always the same linked members %v", seen)
	}
}

// TestCheckRelaysGoOverLinksFirst: the ping-reqs of a check started by
// PeerDown go to linked members.
func TestCheckRelaysGoOverLinksFirst(t *testing.T) {
	linked := []membership.NodeID{"m03", "m07", "m11", "m15"}
	a := coreWithLinks(t, linked)
	cfg := swim.DefaultTestConfig()
	now := time.Duration(0)
	a.PeerDown(now, "m09")
	var relays []membership.NodeID
	for range 20 {
		now += cfg.TickInterval
		a.Tick(now)
		for _, s := range a.Ready().Sends {
			env, ok := s.Msg.(*pb.Envelope)
			if ok && env.GetPingReq() != nil && env.GetPingReq().Target == "m09" {
				relays = append(relays, s.To)
			}
		}
		if len(relays) > 0 {
			break
		}
	}
	if len(relays) != cfg.IndirectChecks {
		t.Fatalf("check of m09 sent ping-reqs to %v, want %d", relays, cfg.IndirectChecks)
	}
	for _, id := range relays {
		if !slices.Contains(linked, id) {
			t.Fatalf("ping-req for the check sent to %s, not linked (links %v)", id, linked)
		}
	}
}

package swim_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/swim"
	"github.com/hearsay-mesh/hearsay/swim/pb"
)

// coreKnowing builds core id that knows the given members alive at
// incarnation inc (told by the first of them).
func coreKnowing(t *testing.T, cfg swim.Config, id string, inc uint64, members ...string) *swim.Core {
	t.Helper()
	c, err := swim.New(membership.Node{ID: membership.NodeID(id)}, cfg, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	env := &pb.Envelope{Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{}}}
	for _, m := range members {
		env.Updates = append(env.Updates, &pb.Member{Id: m, Incarnation: inc, State: pb.State_STATE_ALIVE})
	}
	if err := c.Step(time.Millisecond, membership.NodeID(members[0]), env); err != nil {
		t.Fatal(err)
	}
	c.Ready()
	return c
}

// sends lists the (target, body type) pairs of the queued sends.
func sends(c *swim.Core) []*pb.Envelope {
	var out []*pb.Envelope
	for _, s := range c.Ready().Sends {
		out = append(out, s.Msg.(*pb.Envelope))
	}
	return out
}

// A PeerDown about an alive member probes it at once, outside the
// round-robin order, and suspects it when neither the ping nor the
// ping-reqs are answered; with PeerDownProbe off it is ignored.
func TestPeerDownProbesAtOnce(t *testing.T) {
	cfg := swim.DefaultTestConfig()
	cfg.Lifeguard = false // no nacks: a silent check suspects
	cfg.PushPullInterval = 0
	c := coreKnowing(t, cfg, "a", 1, "b", "x", "y", "z")
	now := 2 * time.Millisecond
	c.PeerDown(now, "x")
	var pinged bool
	for _, s := range c.Ready().Sends {
		if p := s.Msg.(*pb.Envelope).GetPing(); p != nil && s.To == "x" {
			pinged = true
		}
	}
	if !pinged {
		t.Fatal("PeerDown did not ping x at once")
	}
	var reqs int
	var suspected bool
	for ; now < 2*time.Second; now += cfg.TickInterval {
		c.Tick(now)
		r := c.Ready()
		for _, s := range r.Sends {
			if p := s.Msg.(*pb.Envelope).GetPingReq(); p != nil && p.Target == "x" {
				reqs++
			}
		}
		for _, e := range r.Events {
			if me, ok := e.(membership.MemberEvent); ok && me.Node.ID == "x" && me.Change == membership.MemberSuspect {
				suspected = true
			}
		}
		if suspected {
			break
		}
	}
	// ping, ping-req after ProbeTimeout, then 1.5 ProbeTimeout for nacks.
	if reqs == 0 || !suspected || now > 2*time.Millisecond+5*cfg.ProbeTimeout/2+cfg.TickInterval {
		t.Fatalf("ping-reqs %d, suspected %v at %v", reqs, suspected, now)
	}

	cfg.PeerDownProbe = false
	c = coreKnowing(t, cfg, "a", 1, "b", "x")
	c.PeerDown(now, "x")
	if got := sends(c); len(got) != 0 {
		t.Fatalf("PeerDownProbe off: sent %v", got)
	}
}

// A relay asked to probe a suspect it already knows refuted hands the
// refutation to the requester at once.
func TestPingReqReturnsNewerRecord(t *testing.T) {
	c := coreKnowing(t, swim.DefaultTestConfig(), "r", 5, "a", "s")
	req := &pb.Envelope{Body: &pb.Envelope_PingReq{PingReq: &pb.PingReq{Seq: 9, Target: "s", Nack: true, SuspectIncarnation: 4}}}
	if err := c.Step(time.Second, "a", req); err != nil {
		t.Fatal(err)
	}
	var got bool
	for _, s := range c.Ready().Sends {
		env := s.Msg.(*pb.Envelope)
		for _, u := range env.Updates {
			if s.To == "a" && u.Id == "s" && u.State == pb.State_STATE_ALIVE && u.Incarnation == 5 {
				got = true
			}
		}
	}
	if !got {
		t.Fatal("the requester did not get s's newer record")
	}
}

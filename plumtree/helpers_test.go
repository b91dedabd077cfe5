package plumtree

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/plumtree/pb"
)

const ms = time.Millisecond

// newTestCore builds core "self" with the given neighbours.
func newTestCore(t *testing.T, cfg Config, peers ...membership.NodeID) *Core {
	t.Helper()
	c, err := New("self", cfg, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range peers {
		c.NeighborUp(0, membership.Node{ID: p})
	}
	return c
}

func gossipMsg(origin membership.NodeID, seq uint64, hops uint32, payload string) *pb.Envelope {
	return &pb.Envelope{Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{
		Id: &pb.MessageID{Origin: []byte(origin), Seq: seq}, Hops: hops, Payload: []byte(payload)}}}
}

func ihaveMsg(origin membership.NodeID, seq uint64, hops uint32) *pb.Envelope {
	return &pb.Envelope{Body: &pb.Envelope_Ihave{Ihave: &pb.IHave{Entries: []*pb.Announcement{
		{Id: &pb.MessageID{Origin: []byte(origin), Seq: seq}, Hops: hops}}}}}
}

func graftMsg(origin membership.NodeID, seq uint64) *pb.Envelope {
	return &pb.Envelope{Body: &pb.Envelope_Graft{Graft: &pb.Graft{Ids: []*pb.MessageID{{Origin: []byte(origin), Seq: seq}}}}}
}

func pruneMsg(origin membership.NodeID) *pb.Envelope {
	return &pb.Envelope{Body: &pb.Envelope_Prune{Prune: &pb.Prune{Origins: [][]byte{[]byte(origin)}}}}
}

// kinds summarises sends as "peer:kind" strings, in order.
func kinds(r membership.Ready) []string {
	var out []string
	for _, s := range r.Sends {
		env := s.Msg.(*pb.Envelope)
		k := "?"
		switch env.Body.(type) {
		case *pb.Envelope_Gossip:
			k = "gossip"
		case *pb.Envelope_Ihave:
			k = "ihave"
		case *pb.Envelope_Graft:
			k = "graft"
		case *pb.Envelope_Prune:
			k = "prune"
		}
		out = append(out, string(s.To)+":"+k)
	}
	return out
}

func mustStep(t *testing.T, c *Core, now time.Duration, from membership.NodeID, env *pb.Envelope) {
	t.Helper()
	if err := c.Step(now, from, env); err != nil {
		t.Fatalf("step from %s: %v", from, err)
	}
}

func deliveredIn(r membership.Ready) []Delivered {
	var out []Delivered
	for _, e := range r.Events {
		if d, ok := e.(Delivered); ok {
			out = append(out, d)
		}
	}
	return out
}

package plumtree

import (
	"math/rand/v2"
	"testing"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/plumtree/pb"
	"google.golang.org/protobuf/proto"
)

// FuzzStep decodes arbitrary bytes into an envelope and feeds it to a core
// with neighbours, a cached message and a missing one: Step must never
// panic, and a rejected message must change nothing.
func FuzzStep(f *testing.F) {
	for _, env := range []*pb.Envelope{
		gossipMsg("o", 1, 1, "p"),
		gossipMsg("o", 2, 3, "q"),
		ihaveMsg("o", 3, 1),
		ihaveMsg("self", 1, 0),
		graftMsg("self", 1),
		{Body: &pb.Envelope_Graft{Graft: &pb.Graft{Origins: [][]byte{[]byte("o")}}}},
		pruneMsg("o"),
		{},
	} {
		b, err := proto.Marshal(env)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, fromIdx uint8) {
		env := &pb.Envelope{}
		if err := proto.Unmarshal(data, env); err != nil {
			return
		}
		for _, perOrigin := range []bool{false, true} {
			cfg := TestConfig()
			cfg.PerOriginTrees = perOrigin
			c, err := New("self", cfg, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			peers := []membership.NodeID{"a", "b", "c"}
			for _, p := range peers {
				c.NeighborUp(0, membership.Node{ID: p})
			}
			c.Broadcast(0, []byte("mine"))
			_ = c.Step(0, "a", ihaveMsg("o", 3, 1))
			c.Ready()
			from := peers[int(fromIdx)%len(peers)]
			if fromIdx >= 200 {
				from = "stranger"
			}
			before := c.Stats()
			if err := c.Step(ms, from, env); err != nil {
				after := c.Stats()
				after.Rejected--
				if after != before || c.Pending() != 0 {
					t.Fatalf("rejected message changed state: %v", err)
				}
			}
			for now := ms; now < cfg.GraftTimeoutMax*2; now += cfg.TickInterval {
				c.Tick(now)
			}
			c.Ready()
		}
	})
}

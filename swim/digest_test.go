package swim

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/swim/pb"
)

// pump delivers every pending send between the cores until none is left,
// and returns the push-pulls it delivered, in order.
func pump(t *testing.T, now time.Duration, cores map[membership.NodeID]*Core) []*pb.PushPull {
	t.Helper()
	var pps []*pb.PushPull
	for round := 0; round < 20; round++ {
		moved := false
		for id, c := range cores {
			for _, s := range c.Ready().Sends {
				moved = true
				env := s.Msg.(*pb.Envelope)
				if pp := env.GetPushPull(); pp != nil {
					pps = append(pps, pp)
				}
				if dst := cores[s.To]; dst != nil {
					if err := dst.Step(now, id, env); err != nil {
						t.Fatalf("%s -> %s: %v", id, s.To, err)
					}
				}
			}
		}
		if !moved {
			return pps
		}
	}
	t.Fatal("messages still flowing after 20 rounds")
	return nil
}

func TestPushPullDigest(t *testing.T) {
	mk := func(id string) *Core {
		c, err := New(membership.Node{ID: membership.NodeID(id), Addrs: []string{"/ip4/127.0.0.1/tcp/1"}}, DefaultTestConfig(), rand.New(rand.NewPCG(1, uint64(len(id)))))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := mk("a"), mk("bb")
	cores := map[membership.NodeID]*Core{"a": a, "bb": b}
	if err := a.Join(0, membership.Node{ID: "bb"}); err != nil {
		t.Fatal(err)
	}
	pump(t, time.Millisecond, cores)
	if a.stateDigest() != b.stateDigest() {
		t.Fatalf("after the join the tables differ: %x vs %x", a.stateDigest(), b.stateDigest())
	}

	// Equal tables: the offer and its answer carry no member.
	a.sendDigest("bb")
	pps := pump(t, 2*time.Millisecond, cores)
	if len(pps) != 2 || len(pps[0].Members) != 0 || len(pps[1].Members) != 0 || pps[1].Digest != pps[0].Digest || !pps[1].Reply {
		t.Fatalf("equal digests exchanged %v", pps)
	}
	if b.Stats().DigestsEqual != 1 {
		t.Fatalf("DigestsEqual = %d", b.Stats().DigestsEqual)
	}

	// b's metadata changes and the gossip of it is lost: the digests
	// differ, b sends its state and asks for a's, and both end equal.
	if err := b.SetMeta(3*time.Millisecond, map[string]string{"name": "bee"}); err != nil {
		t.Fatal(err)
	}
	b.Ready() // the piggybacked update is lost
	a.sendDigest("bb")
	pps = pump(t, 4*time.Millisecond, cores)
	if len(pps) != 3 || len(pps[1].Members) != 2 || !pps[1].WantState || len(pps[2].Members) != 2 || !pps[2].Reply {
		t.Fatalf("differing digests exchanged %v", pps)
	}
	if m, ok := a.Member("bb"); !ok || m.Meta["name"] != "bee" {
		t.Fatalf("a's view of bb: %+v", m)
	}
	if a.stateDigest() != b.stateDigest() {
		t.Fatalf("after the exchange the tables differ")
	}
}

// The digest ignores record order and address order but not incarnation,
// state or metadata.
func TestRecordDigest(t *testing.T) {
	base := &pb.Member{Id: "x", Addrs: []string{"/a", "/b"}, Incarnation: 3, State: pb.State_STATE_ALIVE, Meta: []*pb.Meta{{Key: "k", Value: "v"}}}
	same := &pb.Member{Id: "x", Addrs: []string{"/b", "/a"}, Incarnation: 3, State: pb.State_STATE_ALIVE, Meta: []*pb.Meta{{Key: "k", Value: "v"}}, From: "y"}
	if recordDigest(base) != recordDigest(same) {
		t.Fatal("address order or From changed the digest")
	}
	for name, m := range map[string]*pb.Member{
		"incarnation": {Id: "x", Addrs: base.Addrs, Incarnation: 4, State: base.State, Meta: base.Meta},
		"state":       {Id: "x", Addrs: base.Addrs, Incarnation: 3, State: pb.State_STATE_SUSPECT, Meta: base.Meta},
		"meta":        {Id: "x", Addrs: base.Addrs, Incarnation: 3, State: base.State, Meta: []*pb.Meta{{Key: "k", Value: "w"}}},
		"id":          {Id: "y", Addrs: base.Addrs, Incarnation: 3, State: base.State, Meta: base.Meta},
	} {
		if recordDigest(m) == recordDigest(base) {
			t.Errorf("%s change not in the digest", name)
		}
	}
}

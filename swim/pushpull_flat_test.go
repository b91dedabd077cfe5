package swim_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/swim"
	"github.com/hearsay-mesh/hearsay/swim/pb"
)

// digestTargets runs a core knowing 99 alive members (one of them, m07,
// linked) for d, answering every ping, and returns the targets of its
// periodic push-pull digests.
func digestTargets(t *testing.T, flat bool, d time.Duration) []membership.NodeID {
	t.Helper()
	cfg := swim.DefaultTestConfig()
	cfg.PushPullInterval = 5 * time.Second
	cfg.PushPullFlat = flat
	a, err := swim.New(membership.Node{ID: "a"}, cfg, rand.New(rand.NewPCG(21, 22)))
	if err != nil {
		t.Fatal(err)
	}
	var ups []*pb.Member
	for i := range 99 {
		ups = append(ups, &pb.Member{Id: fmt.Sprintf("m%02d", i), Incarnation: 1, State: pb.State_STATE_ALIVE})
	}
	if err := a.Step(0, "m00", &pb.Envelope{Updates: ups, Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{}}}); err != nil {
		t.Fatal(err)
	}
	a.LinkUp("m07")
	var got []membership.NodeID
	for now := 10 * time.Millisecond; now <= d; now += 10 * time.Millisecond {
		a.Tick(now)
		for _, s := range a.Ready().Sends {
			env := s.Msg.(*pb.Envelope)
			if p := env.GetPing(); p != nil {
				if err := a.Step(now, s.To, &pb.Envelope{Body: &pb.Envelope_Ack{Ack: &pb.Ack{Seq: p.Seq}}}); err != nil {
					t.Fatal(err)
				}
			}
			if pp := env.GetPushPull(); pp != nil && pp.Digest != 0 && len(pp.Members) == 0 && !pp.Reply {
				got = append(got, s.To)
			}
		}
	}
	return got
}

// With PushPullFlat the periodic digest exchange keeps PushPullInterval
// at 100 members (scaled: 100/32 times longer) and goes to a link.
func TestPushPullFlat(t *testing.T) {
	const d = 60 * time.Second
	flat := digestTargets(t, true, d)
	if len(flat) < 10 || len(flat) > 13 {
		t.Fatalf("flat: %d digests in %v with a 5 s interval; want about 12", len(flat), d)
	}
	for _, to := range flat {
		if to != "m07" {
			t.Fatalf("flat: digest to %s; want the link m07 (%v)", to, flat)
		}
	}
	scaled := digestTargets(t, false, d)
	if len(scaled) > 5 {
		t.Fatalf("scaled: %d digests in %v; want about 4 (5 s x 100/32)", len(scaled), d)
	}
}

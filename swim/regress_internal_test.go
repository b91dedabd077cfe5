package swim

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/swim/pb"
)

// A push-pull record of a suspect names the suspicion's originator, so
// the originator does not count the partner that merely heard its own
// suspicion (and echoes it back by push-pull) as an independent
// confirmation: it was stamped with the sender, which shortened the
// suspicion and skipped the final check.
func TestPushPullEchoOfOurSuspicionIsNoConfirmation(t *testing.T) {
	cfg := DefaultTestConfig()
	a, _ := New(membership.Node{ID: "a"}, cfg, rand.New(rand.NewPCG(1, 2)))
	b, _ := New(membership.Node{ID: "b"}, cfg, rand.New(rand.NewPCG(3, 4)))
	var ups []*pb.Member
	for _, id := range []string{"a", "b", "c", "d", "e", "f", "x"} {
		ups = append(ups, &pb.Member{Id: id, Incarnation: 1, State: pb.State_STATE_ALIVE})
	}
	for _, n := range []*Core{a, b} {
		if err := n.Step(0, "c", &pb.Envelope{Updates: ups, Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{}}}); err != nil {
			t.Fatal(err)
		}
	}
	m := a.members["x"]
	a.probeFailedOn(0, m) // a's own probe of x failed: a suspects x
	// b hears a's suspicion by gossip.
	if err := b.Step(time.Millisecond, "a", &pb.Envelope{Updates: []*pb.Member{a.record(m)}, Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{}}}); err != nil {
		t.Fatal(err)
	}
	echo := b.record(b.members["x"])
	if echo.From != "a" {
		t.Fatalf("b's record of the suspicion names %q, not its originator a", echo.From)
	}
	pp := &pb.PushPull{Members: []*pb.Member{echo}}
	if err := a.Step(2*time.Millisecond, "b", &pb.Envelope{Body: &pb.Envelope_PushPull{PushPull: pp}}); err != nil {
		t.Fatal(err)
	}
	if m.susp.n != 0 {
		t.Fatalf("an echo of a's own suspicion counted as %d confirmation(s); seen %v", m.susp.n, m.susp.seen)
	}
}

// One envelope alternating suspect/alive about one member used to append
// it to c.suspects once per cycle (5,101 entries from one peer's messages).
func TestSuspectsListHasNoDuplicates(t *testing.T) {
	c, _ := New(membership.Node{ID: "a"}, DefaultTestConfig(), rand.New(rand.NewPCG(1, 2)))
	_ = c.Step(0, "b", &pb.Envelope{Updates: []*pb.Member{{Id: "b", Incarnation: 1, State: pb.State_STATE_ALIVE}, {Id: "x", Incarnation: 1, State: pb.State_STATE_ALIVE}}, Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{}}})
	inc := uint64(1)
	for round := 0; round < 20; round++ {
		var ups []*pb.Member
		for i := 0; i < 255; i++ {
			ups = append(ups, &pb.Member{Id: "x", Incarnation: inc, State: pb.State_STATE_SUSPECT, From: "b"}, &pb.Member{Id: "x", Incarnation: inc + 1, State: pb.State_STATE_ALIVE})
			inc++
		}
		ups = append(ups, &pb.Member{Id: "x", Incarnation: inc, State: pb.State_STATE_SUSPECT, From: "b"})
		if err := c.Step(0, "b", &pb.Envelope{Updates: ups, Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{}}}); err != nil {
			t.Fatal(err)
		}
		c.Tick(DefaultTestConfig().TickInterval * 1)
		c.Ready()
	}
	if len(c.suspects) > 2 {
		t.Fatalf("c.suspects holds %d entries for one suspect", len(c.suspects))
	}
}

package swim_test

import (
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/swim"
	"github.com/hearsay-mesh/hearsay/swim/pb"
)

func pair(t *testing.T) (*swim.Core, *swim.Core) {
	a, b := newCore(t, "a"), newCore(t, "b")
	_ = b.Step(0, "a", gossip(&pb.Member{Id: "a", Incarnation: 1, State: pb.State_STATE_ALIVE}))
	_ = a.Step(0, "b", gossip(&pb.Member{Id: "b", Incarnation: 1, State: pb.State_STATE_ALIVE}))
	return a, b
}

func run(t *testing.T, a, b *swim.Core, from, to time.Duration) {
	for now := from; now < to; now += 100 * time.Millisecond {
		a.Tick(now)
		b.Tick(now)
		deliver(t, now, b, "b", a, "a")
		deliver(t, now, a, "a", b, "b")
	}
}

// Serial incarnations (found in review, 2026-12-07): each sequence below
// left a live member dead or ignored at a peer before the two sides
// treated incomparable incarnations (exactly 2^63 apart) alike.

// One forged ping suspects a at 2^63; a's refutation (2^63+1) is
// incomparable with b's record (1); a later death claim at 1 (forged, or
// b's own after a lost probe) must still be refuted: a answers any claim
// not strictly older than its own incarnation, with the one after it.
func TestPingNearHalfThenDeathIsRefuted(t *testing.T) {
	a, b := pair(t)
	_ = a.Step(0, "x", &pb.Envelope{Body: &pb.Envelope_Ping{Ping: &pb.Ping{Seq: 1, SuspectIncarnation: 1 << 63}}})
	run(t, a, b, 0, 2*time.Second)
	if m, _ := b.Member("a"); m.Incarnation != a.Incarnation() {
		t.Logf("after ping: a at %d, b holds a at %d (a's records ignored)", a.Incarnation(), m.Incarnation)
	}
	_ = b.Step(2*time.Second, "x", gossip(&pb.Member{Id: "a", Incarnation: 1, State: pb.State_STATE_DEAD, From: "x"}))
	run(t, a, b, 2*time.Second, 30*time.Second)
	if m, _ := b.Member("a"); m.State != membership.StateAlive {
		t.Fatalf("b holds live a %v at %d; a is at %d", m.State, m.Incarnation, a.Incarnation())
	}
}

// A claim exactly 2^63 past b's record is refused by b (claims must be at
// least as new as what it holds), as a would not refute it: one forged
// message killed a.
func TestDeathExactlyHalfAwayIsRefused(t *testing.T) {
	a, b := pair(t)
	_ = b.Step(0, "x", gossip(&pb.Member{Id: "a", Incarnation: 1 + 1<<63, State: pb.State_STATE_DEAD, From: "x"}))
	run(t, a, b, 0, 30*time.Second)
	if m, _ := b.Member("a"); m.State != membership.StateAlive {
		t.Fatalf("b holds live a %v at %d; a is at %d", m.State, m.Incarnation, a.Incarnation())
	}
}

// Forged alive records walk b's record of a to 1+2^63 in two newer steps;
// a outbids a record of itself that is not strictly older than its own, so
// b takes a's records again (it ignored them, metadata included, for good).
func TestAliveWalkToHalfIsOutbid(t *testing.T) {
	a, b := pair(t)
	_ = b.Step(0, "x", gossip(&pb.Member{Id: "a", Incarnation: 1 + 1<<62, State: pb.State_STATE_ALIVE}))
	_ = b.Step(0, "x", gossip(&pb.Member{Id: "a", Incarnation: 1 + 1<<63, State: pb.State_STATE_ALIVE}))
	run(t, a, b, 0, 10*time.Second)
	if m, _ := b.Member("a"); m.Incarnation != a.Incarnation() {
		t.Fatalf("b holds a at %d; a is at %d: a's records ignored", m.Incarnation, a.Incarnation())
	}
}

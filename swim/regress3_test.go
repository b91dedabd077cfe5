package swim_test

import (
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/swim"
	"github.com/hearsay-mesh/hearsay/swim/pb"
)

// deliver hands every message src queued for dst to dst (gossip, acks...).
func deliver(t *testing.T, now time.Duration, src *swim.Core, srcID string, dst *swim.Core, dstID string) {
	t.Helper()
	for _, s := range src.Ready().Sends {
		if string(s.To) == dstID {
			_ = dst.Step(now, membership.NodeID(srcID), s.Msg.(*pb.Envelope))
		}
	}
}

// A forged ALIVE record of a at held+2W (inside the alive window) sent to
// b, then a DEAD claim at that incarnation (inside the claim window): b
// marks a dead at 1+2^33, which a refuses as beyond its own+W, so a never
// refutes and stays dead at b until reaped (DeadRetention; the forger
// repeats); a's records at its real incarnation are
// ignored by b.
func TestForgedAliveJumpThenDeathIsRefutable(t *testing.T) {
	a, b := pair(t)
	high := uint64(1 + 2<<32)
	_ = b.Step(0, "x", gossip(&pb.Member{Id: "a", Incarnation: high, State: pb.State_STATE_ALIVE}))
	_ = b.Step(0, "x", gossip(&pb.Member{Id: "a", Incarnation: high, State: pb.State_STATE_DEAD, From: "x"}))
	// b gossips the suspicion to a; a answers with whatever it has.
	run(t, a, b, 0, 50*time.Second)
	if m, _ := b.Member("a"); m.State != membership.StateAlive {
		t.Fatalf("b holds live a %v at %d; a is at %d", m.State, m.Incarnation, a.Incarnation())
	}
}

// A node that does not hold a (here: a newcomer) takes a's record at any
// incarnation: one forged ALIVE at 2^62 and a's real records are ignored
// there for good (metadata updates never arrive), and a DEAD claim at 2^62
// (forged, or b's own after one lost probe) kills a at b, which a
// cannot refute since 2^62 is out of its reach.
func TestUnknownMemberAtTopIsRefutable(t *testing.T) {
	a, b := newCore(t, "a"), newCore(t, "b")
	_ = a.Step(0, "b", gossip(&pb.Member{Id: "b", Incarnation: 1, State: pb.State_STATE_ALIVE}))
	_ = b.Step(0, "x", gossip(&pb.Member{Id: "a", Incarnation: 1 << 62, State: pb.State_STATE_ALIVE}))
	_ = b.Step(0, "x", gossip(&pb.Member{Id: "a", Incarnation: 1 << 62, State: pb.State_STATE_DEAD, From: "x"}))
	run(t, a, b, 0, 50*time.Second)
	if m, _ := b.Member("a"); m.State != membership.StateAlive {
		t.Fatalf("b holds live a %v at %d; a is at %d", m.State, m.Incarnation, a.Incarnation())
	}
}

// One forged suspicion of a at 1+W, sent to a: a refutes at 2+W and b
// accepts it (as designed). a then crashes, b declares it dead at 2+W, and
// a restarts at incarnation 1 and rejoins through b: b's record of a (dead
// at 2+W, in the join reply and in gossip) is beyond a's own+W, so a
// ignores it and never outbids it; b ignores a's records at 1. a stays
// dead at b (until b reaps it) although it is up and talking to b.
func TestRestartAfterForgedRaiseCanRefute(t *testing.T) {
	a, b := pair(t)
	_ = a.Step(0, "x", gossip(&pb.Member{Id: "a", Incarnation: 1 + 1<<32, State: pb.State_STATE_SUSPECT, From: "x"}))
	now := 2 * time.Second
	run(t, a, b, 0, now)
	if m, _ := b.Member("a"); m.Incarnation != a.Incarnation() {
		t.Fatalf("setup: b holds a at %d, a is at %d", m.Incarnation, a.Incarnation())
	}
	// a crashes: b hears nothing from it until it is declared dead.
	for ; now < 20*time.Second; now += 100 * time.Millisecond {
		b.Tick(now)
		b.Ready()
	}
	if m, _ := b.Member("a"); m.State != membership.StateDead {
		t.Fatalf("setup: b holds a %v", m.State)
	}
	a2 := newCore(t, "a")
	if err := a2.Join(now, membership.Node{ID: "b"}); err != nil {
		t.Fatal(err)
	}
	for end := now + 30*time.Second; now < end; now += 100 * time.Millisecond {
		a2.Tick(now)
		b.Tick(now)
		deliver(t, now, a2, "a", b, "b")
		deliver(t, now, b, "b", a2, "a")
	}
	if m, _ := b.Member("a"); m.State != membership.StateAlive {
		t.Fatalf("restarted a is up 30s but b holds it %v at %d; a is at %d", m.State, m.Incarnation, a2.Incarnation())
	}
}

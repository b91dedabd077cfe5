package swim_test

import (
	"math"
	"testing"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/swim/pb"
)

// A forged self-suspicion sent to a alone, 2^32 past a's incarnation, is
// refuted by a and the refutation is accepted by b, which never saw the
// forgery and holds a at 1 (with a bound on how far a record may jump, b
// ignored a's refutation and a could never refute at b).
func TestRefutationOfAForgedJumpIsAccepted(t *testing.T) {
	a, b := newCore(t, "a"), newCore(t, "b")
	if err := b.Step(0, "a", gossip(&pb.Member{Id: "a", Incarnation: 1, State: pb.State_STATE_ALIVE})); err != nil {
		t.Fatal(err)
	}
	// Sent to a only.
	if err := a.Step(0, "c", gossip(&pb.Member{Id: "a", Incarnation: 1 + 1<<32, State: pb.State_STATE_SUSPECT, From: "x"})); err != nil {
		t.Fatal(err)
	}
	// Then a suspicion at a's old incarnation, gossiped to b.
	if err := b.Step(0, "c", gossip(&pb.Member{Id: "a", Incarnation: 1, State: pb.State_STATE_SUSPECT, From: "x"})); err != nil {
		t.Fatal(err)
	}
	if err := a.Step(0, "c", gossip(&pb.Member{Id: "a", Incarnation: 1, State: pb.State_STATE_SUSPECT, From: "x"})); err != nil {
		t.Fatal(err)
	}
	err := b.Step(0, "a", gossip(&pb.Member{Id: "a", Incarnation: a.Incarnation(), State: pb.State_STATE_ALIVE}))
	if m, _ := b.Member("a"); err != nil || m.State != membership.StateAlive {
		t.Fatalf("a refuted at incarnation %d; b: %v, holds a %v at %d", a.Incarnation(), err, m.State, m.Incarnation)
	}
}

// A ping suspecting a at 2^64-1 is refuted with incarnation 1, newer in
// serial arithmetic: it wrapped a's incarnation to 0 (every record of a
// was then refused on the wire as "incarnation 0").
func TestPingSuspicionAtTheTopIsRefuted(t *testing.T) {
	a := newCore(t, "a")
	_ = a.Step(0, "c", &pb.Envelope{Body: &pb.Envelope_Ping{Ping: &pb.Ping{Seq: 1, SuspectIncarnation: math.MaxUint64}}})
	if a.Incarnation() != 1 {
		t.Fatalf("a's incarnation is %d after a ping suspecting it at 2^64-1, want 1 (wrapped, 0 skipped)", a.Incarnation())
	}
}

// The creator a held m down, so its SIGNAL skipped m: m hears the group
// fired only from a gossiped trigger naming m, which leaves a tombstone, so
// a's CREATE arriving after it does not install the group armed at m for
// good (a stopped its retries when it fired; no SIGNAL ever comes).
func TestTriggerNamingUsBeforeCreateLeavesNoArmedGroup(t *testing.T) {
	m := newCore(t, "m")
	trig := &pb.Envelope{Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{}}, Triggers: []*pb.FuseTrigger{{Group: "a/1", Reason: pb.FuseReason_FUSE_REASON_CREATE_FAILED, Member: "m"}}}
	if err := m.Step(0, "x", trig); err != nil {
		t.Fatal(err)
	}
	create := &pb.Envelope{Body: &pb.Envelope_Fuse{Fuse: &pb.FuseMsg{Kind: pb.FuseKind_FUSE_CREATE, Group: "a/1", Members: []string{"a", "m"}}}}
	if err := m.Step(0, "a", create); err != nil {
		t.Fatal(err)
	}
	if gs := m.Groups(); len(gs) != 0 {
		t.Fatalf("m holds %v armed after the group's trigger", gs)
	}
}

package swim_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/swim"
	"github.com/hearsay-mesh/hearsay/swim/pb"
)

func gossip(us ...*pb.Member) *pb.Envelope {
	return &pb.Envelope{Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{}}, Updates: us}
}

// A suspicion at incarnation 2^64-1 is refuted and the refutation taken:
// incarnations compare as serial numbers, so a's refutation wraps to 1 and
// is newer than 2^64-1. With plain comparison it wrapped to 0, every
// record of a was then refused, and a was dead for good (one message).
func TestSuspicionAtTheTopIsRefuted(t *testing.T) {
	a, b := newCore(t, "a"), newCore(t, "b")
	if err := b.Step(0, "a", gossip(&pb.Member{Id: "a", Incarnation: 1, State: pb.State_STATE_ALIVE})); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*swim.Core{a, b} {
		if err := c.Step(0, "c", gossip(&pb.Member{Id: "a", Incarnation: math.MaxUint64, State: pb.State_STATE_SUSPECT, From: "x"})); err != nil {
			t.Fatal(err)
		}
	}
	if a.Incarnation() != 1 {
		t.Fatalf("a refuted at %d, want 1 (2^64-1 + 1, skipping 0)", a.Incarnation())
	}
	if err := b.Step(time.Millisecond, "a", gossip(&pb.Member{Id: "a", Incarnation: a.Incarnation(), State: pb.State_STATE_ALIVE})); err != nil {
		t.Fatal(err)
	}
	if m, _ := b.Member("a"); m.State != membership.StateAlive || m.Incarnation != 1 {
		t.Fatalf("b holds a %v at %d after its refutation", m.State, m.Incarnation)
	}
}

// An update larger than GossipBytes (16 addresses of 256 bytes is valid)
// is left to push-pull instead of queued: it was never sent and never
// retired, sorted first forever, and the node sent empty gossip five times
// a second for good.
func TestOversizedUpdateIsNotQueued(t *testing.T) {
	a := newCore(t, "a")
	addrs := make([]string, 16)
	for i := range addrs {
		addrs[i] = strings.Repeat("x", 255) + string(rune('a'+i))
	}
	env := gossip(&pb.Member{Id: "b", Incarnation: 1, State: pb.State_STATE_ALIVE},
		&pb.Member{Id: "c", Incarnation: 1, State: pb.State_STATE_ALIVE, Addrs: addrs})
	if err := a.Step(0, "b", env); err != nil {
		t.Fatal(err)
	}
	a.Ready()
	empty, carried := 0, 0
	for now := time.Duration(0); now < 600*time.Second; now += 100 * time.Millisecond {
		a.Tick(now)
		for _, s := range a.Ready().Sends {
			e := s.Msg.(*pb.Envelope)
			if p := e.GetPing(); p != nil {
				_ = a.Step(now, s.To, &pb.Envelope{Body: &pb.Envelope_Ack{Ack: &pb.Ack{Seq: p.Seq}}})
			}
			if e.GetGossip() != nil {
				if len(e.Updates) == 0 {
					empty++
				}
				for _, u := range e.Updates {
					if u.Id == "c" {
						carried++
					}
				}
			}
		}
	}
	if m, _ := a.Member("c"); m.State != membership.StateAlive {
		t.Fatalf("c not alive: %v", m.State)
	}
	if empty > 10 {
		t.Errorf("%d empty gossip messages in 600 s", empty)
	}
	if carried > 0 {
		t.Errorf("c's record, larger than GossipBytes, was gossiped %d times", carried)
	}
	if a.Stats().OversizedUpdates == 0 {
		t.Error("the oversized update was not counted")
	}
}

// A SIGNAL (or trigger) that arrives before the CREATE leaves a
// tombstone: the late CREATE used to install, armed, a group that had
// fired everywhere else, to fire a second time later.
func TestFuseSignalBeforeCreateLeavesNoArmedGroup(t *testing.T) {
	c := newCore(t, "c")
	_ = c.Step(0, "a", gossip(&pb.Member{Id: "a", Incarnation: 1, State: pb.State_STATE_ALIVE}, &pb.Member{Id: "b", Incarnation: 1, State: pb.State_STATE_ALIVE}))
	c.Ready()
	// b signals (it got a's CREATE first); c gets b's SIGNAL before a's CREATE.
	sig := &pb.Envelope{Body: &pb.Envelope_Fuse{Fuse: &pb.FuseMsg{Kind: pb.FuseKind_FUSE_SIGNAL, Group: "a/1", Reason: pb.FuseReason_FUSE_REASON_SIGNAL, Member: "b"}}}
	if err := c.Step(time.Millisecond, "b", sig); err != nil {
		t.Fatal(err)
	}
	create := &pb.Envelope{Body: &pb.Envelope_Fuse{Fuse: &pb.FuseMsg{Kind: pb.FuseKind_FUSE_CREATE, Group: "a/1", Members: []string{"a", "b", "c"}}}}
	if err := c.Step(2*time.Millisecond, "a", create); err != nil {
		t.Fatal(err)
	}
	if gs := c.Groups(); len(gs) != 0 {
		t.Fatalf("group already signalled elsewhere is armed here: %v", gs)
	}
}

// A member paused long enough to be declared dead comes back (refutes)
// and is told its FUSE group fired: the others' signals skip a member they
// hold dead, so it used to stay armed for good. Hearing of its own death
// now fires its groups.
func TestFuseMemberWronglyDeclaredDeadHearsItsGroupFired(t *testing.T) {
	seed := uint64(7)
	const n = 10
	cl := newCluster(t, seed, n, netCfgFor(seed, false), swim.DefaultTestConfig())
	cl.waitConverged(10 * time.Second)
	var gid swim.GroupID
	cl.s.Invoke(1, func(now time.Duration) {
		var err error
		gid, err = cl.core(1).CreateGroup(now, []membership.NodeID{cl.s.ID(2)})
		if err != nil {
			t.Fatal(err)
		}
	})
	cl.s.RunFor(3 * time.Second)
	if len(cl.core(2).Groups()) != 1 {
		t.Fatalf("group not at 2: %v", cl.core(2).Groups())
	}
	cl.s.Pause(2)
	cl.s.RunFor(30 * time.Second)
	cl.s.Resume(2)
	cl.s.RunFor(60 * time.Second)
	trig := func(i int) int {
		k := 0
		for _, e := range cl.proc(i).events {
			if ft, ok := e.ev.(swim.FuseTriggered); ok && ft.Group == gid {
				k++
			}
		}
		return k
	}
	m, _ := cl.core(1).Member(cl.s.ID(2))
	t.Logf("node 2 at node 1: %v inc %d; deaths of 2: %d; triggers at 1,2,3: %d %d %d; groups at 2: %v",
		m.State, m.Incarnation, cl.memberEvents(membership.MemberFailed, cl.s.ID(2), 0), trig(1), trig(2), trig(3), cl.core(2).Groups())
	if trig(1) != 1 || m.State != membership.StateAlive || cl.memberEvents(membership.MemberFailed, cl.s.ID(2), 0) == 0 {
		t.Fatalf("seed %d: the scenario did not arise (2 declared dead at 1, then alive again, group fired at 1)", seed)
	}
	if trig(2) != 1 || len(cl.core(2).Groups()) != 0 {
		t.Fatalf("seed %d: group %s fired at 1 (2 was declared dead) but 2, alive again, got %d FuseTriggered; armed there: %v", seed, gid, trig(2), cl.core(2).Groups())
	}
}

// Group IDs carry a value drawn when the core is built: they were
// "<self>/<counter>", so a node that restarted with the same ID (the agent
// keeps its key) reused the IDs of its previous life, which members still
// held as tombstones (DeadRetention): they dropped the CREATE and creation
// failed, blaming a healthy member.
func TestFuseGroupIDsAreNotReusedAfterARestart(t *testing.T) {
	a, b := newCore(t, "a"), newCore(t, "b")
	xchg := func(now time.Duration, n int) {
		for i := 0; i < n; i++ {
			for _, s := range a.Ready().Sends {
				if s.To == "b" {
					_ = b.Step(now, "a", s.Msg)
				}
			}
			for _, s := range b.Ready().Sends {
				if s.To == "a" {
					_ = a.Step(now, "b", s.Msg)
				}
			}
		}
	}
	_ = a.Join(0, membership.Node{ID: "b"})
	xchg(0, 3)
	gid1, _ := a.CreateGroup(0, []membership.NodeID{"b"})
	xchg(0, 3)
	// a crashes; b declares it dead and fires gid1.
	ma, _ := b.Member("a")
	_ = b.Step(time.Second, "c", gossip(&pb.Member{Id: "a", Incarnation: ma.Incarnation, State: pb.State_STATE_DEAD, From: "c"}))
	b.Ready()
	// a restarts (same ID, a fresh core with its own random source, as the
	// agent seeds one per start) a few seconds later and rejoins.
	a, err := swim.New(membership.Node{ID: "a"}, swim.DefaultTestConfig(), rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	_ = a.Join(10*time.Second, membership.Node{ID: "b"})
	created := false
	var gid2 swim.GroupID
	for now := 10 * time.Second; now < 20*time.Second; now += 100 * time.Millisecond {
		if now == 15*time.Second {
			if m, _ := b.Member("a"); m.State != membership.StateAlive {
				t.Fatalf("a not back at b: %v", m.State)
			}
			var err error
			if gid2, err = a.CreateGroup(now, []membership.NodeID{"b"}); err != nil {
				t.Fatal(err)
			}
		}
		a.Tick(now)
		b.Tick(now)
		ra, rb := a.Ready(), b.Ready()
		for _, s := range ra.Sends {
			if s.To == "b" {
				_ = b.Step(now, "a", s.Msg)
			}
		}
		for _, s := range rb.Sends {
			if s.To == "a" {
				_ = a.Step(now, "b", s.Msg)
			}
		}
		for _, e := range ra.Events {
			switch e := e.(type) {
			case swim.FuseCreated:
				created = true
			case swim.FuseCreateFailed:
				t.Logf("%v: %#v", now, e)
			}
		}
	}
	_ = a.Ready
	if !created {
		t.Fatalf("new group %s (the old one was %s) never created", gid2, gid1)
	}
}

// A forged suspicion far ahead of what peers hold for a member (2^62) is
// refuted, and the refutation taken (with a wire bound at 2^62 it made a's
// refutation 2^62+1, which every peer refused).
func TestForgedIncarnationJumpIsRefuted(t *testing.T) {
	a, b := newCore(t, "a"), newCore(t, "b")
	if err := b.Step(0, "a", gossip(&pb.Member{Id: "a", Incarnation: 1, State: pb.State_STATE_ALIVE})); err != nil {
		t.Fatal(err)
	}
	forged := gossip(&pb.Member{Id: "a", Incarnation: 1 << 62, State: pb.State_STATE_SUSPECT, From: "x"})
	if err := b.Step(0, "c", forged); err != nil {
		t.Fatal(err)
	}
	if err := a.Step(0, "c", forged); err != nil {
		t.Fatal(err)
	}
	err := b.Step(0, "a", gossip(&pb.Member{Id: "a", Incarnation: a.Incarnation(), State: pb.State_STATE_ALIVE}))
	if m, _ := b.Member("a"); err != nil || m.State != membership.StateAlive {
		t.Fatalf("a refuted at incarnation %d; b: %v, holds a %v at %d", a.Incarnation(), err, m.State, m.Incarnation)
	}
}

// A member that refuted a suspicion of itself and then hears that it was
// declared dead at the incarnation it refuted (the death overtook no one:
// the suspicion simply arrived first) still fires its groups: the member
// that declared it fired them, and signals skip a member held dead.
// fuseSelfDeclaredDead used to look the groups up under this node's own
// ID, where none is indexed, and so fired nothing in any case.
func TestFuseOwnDeathAfterRefutationFiresGroups(t *testing.T) {
	for _, viaPushPull := range []bool{false, true} {
		c := newCore(t, "c")
		_ = c.Step(0, "a", gossip(&pb.Member{Id: "a", Incarnation: 1, State: pb.State_STATE_ALIVE}, &pb.Member{Id: "b", Incarnation: 1, State: pb.State_STATE_ALIVE}))
		create := &pb.Envelope{Body: &pb.Envelope_Fuse{Fuse: &pb.FuseMsg{Kind: pb.FuseKind_FUSE_CREATE, Group: "a/1", Members: []string{"a", "b", "c"}}}}
		if err := c.Step(time.Millisecond, "a", create); err != nil {
			t.Fatal(err)
		}
		if gs := c.Groups(); len(gs) != 1 {
			t.Fatalf("group not armed: %v", gs)
		}
		c.Ready()
		inc := c.Incarnation()
		_ = c.Step(2*time.Millisecond, "b", gossip(&pb.Member{Id: "c", Incarnation: inc, State: pb.State_STATE_SUSPECT, From: "b"}))
		if c.Incarnation() == inc {
			t.Fatalf("suspicion at incarnation %d not refuted", inc)
		}
		if gs := c.Groups(); len(gs) != 1 {
			t.Fatalf("a suspicion fired the group: %v", gs)
		}
		dead := &pb.Member{Id: "c", Incarnation: inc, State: pb.State_STATE_DEAD, From: "b"}
		msg := gossip(dead)
		if viaPushPull {
			msg = &pb.Envelope{Body: &pb.Envelope_PushPull{PushPull: &pb.PushPull{Members: []*pb.Member{dead}}}}
		}
		_ = c.Step(3*time.Millisecond, "b", msg)
		if gs := c.Groups(); len(gs) != 0 {
			t.Fatalf("push-pull %v: declared dead at incarnation %d (refuted since, now %d), the group is still armed: %v", viaPushPull, inc, c.Incarnation(), gs)
		}
		// A death at an incarnation before the group was armed here says
		// nothing about it.
		create2 := &pb.Envelope{Body: &pb.Envelope_Fuse{Fuse: &pb.FuseMsg{Kind: pb.FuseKind_FUSE_CREATE, Group: "a/2", Members: []string{"a", "b", "c"}}}}
		_ = c.Step(4*time.Millisecond, "a", create2)
		_ = c.Step(5*time.Millisecond, "b", gossip(&pb.Member{Id: "c", Incarnation: inc, State: pb.State_STATE_DEAD, From: "b"}))
		if gs := c.Groups(); len(gs) != 1 {
			t.Fatalf("push-pull %v: an old death fired a group armed after it: %v", viaPushPull, gs)
		}
	}
}

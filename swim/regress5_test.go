package swim_test

import (
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/sim"
	"github.com/hearsay-mesh/hearsay/swim"
	"github.com/hearsay-mesh/hearsay/swim/pb"
)

func forgeDead(t *testing.T, cl *cluster, victim int, to []int, st pb.State) {
	vid := sim.NodeName(victim)
	inc := cl.core(victim).Incarnation()
	for _, i := range to {
		i := i
		cl.s.Invoke(i, func(now time.Duration) {
			_ = cl.core(i).Step(now, "x", gossip(&pb.Member{Id: string(vid), Incarnation: inc, State: st, From: "x"}))
		})
	}
}

// One forged death of a sent to one member is refuted (a control: it was
// already, within about 2 s in a 10-node simulated cluster).
func TestForgedDeathToOneIsRefuted(t *testing.T) {
	for _, n := range []int{10, 50} {
		seed := uint64(42 + n)
		cl := newCluster(t, seed, n, netCfgFor(seed, false), swim.DefaultTestConfig())
		cl.waitConverged(30 * time.Second)
		forgeDead(t, cl, 7, []int{1}, pb.State_STATE_DEAD)
		cl.s.RunFor(50 * time.Second)
		if bad := notAlive(cl, n, 7); bad > 0 {
			t.Errorf("n=%d: %d nodes hold live node 7 not alive after 50s (inc %d)", n, bad, cl.core(7).Incarnation())
		}
	}
}

// notAlive counts the members of an n-node cluster, other than victim,
// that do not hold victim alive.
func notAlive(cl *cluster, n, victim int) int {
	bad := 0
	for i := 0; i < n; i++ {
		if m, _ := cl.core(i).Member(sim.NodeName(victim)); i != victim && m.State != membership.StateAlive {
			bad++
		}
	}
	return bad
}

// The same death forged to every member is refuted too.
func TestForgedDeathToAllIsRefuted(t *testing.T) {
	for _, n := range []int{10, 50} {
		seed := uint64(42 + n)
		cl := newCluster(t, seed, n, netCfgFor(seed, false), swim.DefaultTestConfig())
		cl.waitConverged(30 * time.Second)
		var all []int
		for i := 0; i < n; i++ {
			if i != 7 {
				all = append(all, i)
			}
		}
		forgeDead(t, cl, 7, all, pb.State_STATE_DEAD)
		for k := 0; k < 10; k++ {
			cl.s.RunFor(500 * time.Millisecond)
			t.Logf("n=%d t=%v: %d hold 7 not alive; inc %d", n, cl.s.Now(), notAlive(cl, n, 7), cl.core(7).Incarnation())
		}
		cl.s.RunFor(50 * time.Second)
		if bad := notAlive(cl, n, 7); bad > 0 {
			t.Errorf("n=%d: %d nodes hold live node 7 not alive after 50s (inc %d)", n, bad, cl.core(7).Incarnation())
		}
	}
}

// A forged ALIVE record of a at a's own current incarnation, with forged
// metadata, sent to a peer that does not hold a yet (a newcomer, or after
// reaping), is corrected: a outbids a record equal to its own incarnation
// that is not its record (it never did, and the peer ignored a's real
// records at that incarnation for good).
func TestForgedMetaAtOurIncarnationIsCorrected(t *testing.T) {
	a, b := newCore(t, "a"), newCore(t, "b")
	_ = a.Step(0, "b", gossip(&pb.Member{Id: "b", Incarnation: 1, State: pb.State_STATE_ALIVE}))
	_ = b.Step(0, "x", gossip(&pb.Member{Id: "a", Incarnation: a.Incarnation(), State: pb.State_STATE_ALIVE,
		Addrs: []string{"evil:1"}, Meta: []*pb.Meta{{Key: "role", Value: "evil"}}}))
	run(t, a, b, 0, 120*time.Second)
	m, _ := b.Member("a")
	if m.Incarnation == a.Incarnation() && m.Meta["role"] == "evil" {
		t.Fatalf("after 120s of exchanges b still holds a at %d with forged meta %v addrs %v", m.Incarnation, m.Meta, m.Node.Addrs)
	}
}

// a leaves (b takes LEFT at L); one forged ALIVE at L+1 revived it at b
// for good, since a, having left, ignored records of itself. A left member
// now answers with LEFT at the next incarnation.
func TestLeftMemberStaysLeftAfterAForgedAlive(t *testing.T) {
	a, b := pair(t)
	if err := a.Leave(0); err != nil {
		t.Fatal(err)
	}
	run(t, a, b, 0, 2*time.Second)
	if m, _ := b.Member("a"); m.State != membership.StateLeft {
		t.Fatalf("setup: b holds a %v", m.State)
	}
	_ = b.Step(2*time.Second, "x", gossip(&pb.Member{Id: "a", Incarnation: a.Incarnation() + 1, State: pb.State_STATE_ALIVE}))
	run(t, a, b, 2*time.Second, 50*time.Second)
	if m, _ := b.Member("a"); m.State != membership.StateLeft {
		t.Fatalf("a left at %d; b holds it %v at %d", a.Incarnation(), m.State, m.Incarnation)
	}
}

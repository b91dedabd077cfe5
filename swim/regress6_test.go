package swim_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/sim"
	"github.com/hearsay-mesh/hearsay/swim"
	"github.com/hearsay-mesh/hearsay/swim/pb"
	"google.golang.org/protobuf/encoding/protowire"
)

func newAddrCluster(t *testing.T, seed uint64, n int) *cluster {
	s, err := sim.New(netCfgFor(seed, false), n, func(id membership.NodeID, index int, rng *rand.Rand) sim.Process {
		addrs := []string{fmt.Sprintf("/ip4/10.0.0.%d/tcp/4001", index), fmt.Sprintf("/ip6/::%d/udp/4001/quic-v1", index), "/ip4/127.0.0.1/tcp/4001"}
		c, err := swim.New(membership.Node{ID: id, Addrs: addrs}, swim.DefaultTestConfig(), rng)
		if err != nil {
			t.Fatal(err)
		}
		return &proc{core: c}
	})
	if err != nil {
		t.Fatal(err)
	}
	cl := &cluster{t: t, seed: seed, s: s}
	for i := 0; i < n; i++ {
		i := i
		s.At(time.Duration(s.Rand().Int64N(int64(time.Second))), func() {
			s.Invoke(i, func(now time.Duration) {
				_ = cl.core(i).SetMeta(now, map[string]string{"z": "1", "a": "2", "m": "", "role": fmt.Sprint(i)})
				if i > 0 {
					_ = cl.core(i).Join(now, membership.Node{ID: sim.NodeName(0)})
				}
			})
		})
	}
	return cl
}

// In a quiet cluster (members with several addresses and metadata, after
// SetMeta and Join) no incarnation changes and nothing is refuted, and a
// member that leaves is held left everywhere: answerSelf never fires on a
// member's own record coming back (found sound in review, 2026-12-07).
func TestQuietClusterKeepsIncarnations(t *testing.T) {
	n := 40
	cl := newAddrCluster(t, 7, n)
	cl.waitConverged(30 * time.Second)
	cl.s.RunFor(10 * time.Second)
	inc := make([]uint64, n)
	for i := range inc {
		inc[i] = cl.core(i).Incarnation()
	}
	t.Logf("incs after converge: %v", inc)
	cl.s.RunFor(120 * time.Second)
	for i := 0; i < n; i++ {
		if got := cl.core(i).Incarnation(); got != inc[i] {
			t.Errorf("node %d inc %d -> %d", i, inc[i], got)
		}
		if r := cl.core(i).Stats().Refutations; r != 0 {
			t.Errorf("node %d refutations %d", i, r)
		}
	}
	// leave right after SetMeta
	start := cl.s.Now()
	cl.s.Invoke(5, func(now time.Duration) {
		_ = cl.core(5).SetMeta(now, map[string]string{"x": "new"})
		_ = cl.core(5).Leave(now)
	})
	l := cl.core(5).Incarnation()
	cl.s.RunFor(30 * time.Second)
	t.Logf("node 5 left at %d, now %d", l, cl.core(5).Incarnation())
	for i := 0; i < n; i++ {
		if i == 5 {
			continue
		}
		if m, _ := cl.core(i).Member(sim.NodeName(5)); m.State != membership.StateLeft {
			t.Errorf("node %d holds 5 %v at %d", i, m.State, m.Incarnation)
		}
	}
	if f := cl.memberEvents(membership.MemberFailed, sim.NodeName(5), start); f != 0 {
		t.Errorf("%d failed events about 5", f)
	}
	for i := 0; i < n; i++ {
		if i != 5 && cl.core(i).Incarnation() != inc[i] {
			t.Errorf("node %d inc %d -> %d after leave", i, inc[i], cl.core(i).Incarnation())
		}
	}
}

// Our record echoed back with a field this version does not know (from a
// newer peer) is still our record: proto.Equal compared unknown fields, and
// every echo would have raised our incarnation.
func TestEchoWithUnknownFieldIsOurRecord(t *testing.T) {
	a, b := pair(t)
	run(t, a, b, 0, 3*time.Second)
	i0 := a.Incarnation()
	u := &pb.Member{Id: "a", Incarnation: i0, State: pb.State_STATE_ALIVE}
	u.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 7, protowire.VarintType), 1))
	_ = a.Step(3*time.Second, "b", gossip(u))
	if a.Incarnation() != i0 {
		t.Fatalf("incarnation %d -> %d after our record echoed with an unknown field", i0, a.Incarnation())
	}
}

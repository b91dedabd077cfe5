package swim_test

import (
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/sim"
	"github.com/hearsay-mesh/hearsay/swim"
)

func TestSimJoinConvergesNoFalseDeath(t *testing.T) {
	bothDrivers(t, func(t *testing.T, netCfg func(uint64) sim.Config) {
		seed := randomSeed(t)
		cl := newCluster(t, seed, 30, netCfg(seed), swim.DefaultTestConfig())
		cl.waitConverged(10 * time.Second)
		start := cl.s.Now()
		cl.s.RunFor(120 * time.Second)
		if k := cl.memberEvents(membership.MemberFailed, "", 0); k > 0 {
			t.Fatalf("seed %d: %d false deaths without loss", seed, k)
		}
		if k := cl.memberEvents(membership.MemberSuspect, "", start); k > 0 {
			t.Fatalf("seed %d: %d suspicions without loss or faults", seed, k)
		}
	})
}

// "with 10% loss and Lifeguard on, no false death over 1,000 periods at N=100"
func TestSimLossNoFalseDeath(t *testing.T) {
	bothDrivers(t, func(t *testing.T, netCfg func(uint64) sim.Config) {
		if testing.Short() {
			t.Skip("1,000 periods at N=100")
		}
		seed := randomSeed(t)
		cl := newCluster(t, seed, 100, netCfg(seed), swim.DefaultTestConfig())
		// The cluster forms on a clean network, then runs 1,000 periods at
		// 10% loss. (Waiting for "every view all-alive" under loss is a race
		// with the ~0.7 suspicions per second that loss causes, and costs
		// O(n^2) per event: it is not what this test is about.)
		cl.waitConverged(30 * time.Second)
		if err := cl.s.SetLoss(0.10); err != nil {
			t.Fatal(err)
		}
		cl.s.RunFor(1000 * time.Second)
		if k := cl.memberEvents(membership.MemberFailed, "", 0); k > 0 {
			t.Fatalf("seed %d: %d false deaths at 10%% loss", seed, k)
		}
		var susp, ref, checks, failed uint64
		for i := 0; i < 100; i++ {
			st := cl.core(i).Stats()
			susp += st.Suspicions
			ref += st.Refutations
			checks += st.Checks
			failed += st.CheckFailures
		}
		t.Logf("seed %d: %d suspicions, %d refutations, all refuted; %d final checks, %d of them unanswered", seed, susp, ref, checks, failed)
	})
}

func TestSimCrashDetectedByAll(t *testing.T) {
	bothDrivers(t, func(t *testing.T, netCfg func(uint64) sim.Config) {
		seed := randomSeed(t)
		const n = 40
		cl := newCluster(t, seed, n, netCfg(seed), swim.DefaultTestConfig())
		cl.waitConverged(10 * time.Second)
		crashAt := cl.s.Now()
		cl.s.Crash(5)
		cl.s.Crash(17)
		down := func() bool {
			for i := 0; i < n; i++ {
				if !cl.s.Alive(i) {
					continue
				}
				for _, j := range []int{5, 17} {
					if m, _ := cl.core(i).Member(sim.NodeName(j)); m.State != membership.StateDead {
						return false
					}
				}
			}
			return true
		}
		if !cl.s.RunUntil(crashAt+30*time.Second, down) {
			t.Fatalf("seed %d: crashes not detected by all within 30 s", seed)
		}
		t.Logf("seed %d: both crashes known to all %d live members after %v", seed, n-2, cl.s.Now()-crashAt)
		if k := cl.memberEvents(membership.MemberFailed, "", 0); k != 2*(n-2) {
			t.Fatalf("seed %d: %d failed events, want exactly %d", seed, k, 2*(n-2))
		}
	})
}

// "a suspected member refutes": a member paused for 2 s is suspected but
// refutes on resume and is never declared dead.
func TestSimPausedMemberRefutes(t *testing.T) {
	bothDrivers(t, func(t *testing.T, netCfg func(uint64) sim.Config) {
		seed := randomSeed(t)
		const n = 30
		cl := newCluster(t, seed, n, netCfg(seed), swim.DefaultTestConfig())
		cl.waitConverged(10 * time.Second)
		for round := 0; round < 5; round++ {
			victim := 1 + round*5
			cl.s.Pause(victim)
			cl.s.RunFor(2500 * time.Millisecond)
			cl.s.Resume(victim)
			cl.s.RunFor(20 * time.Second)
		}
		if k := cl.memberEvents(membership.MemberFailed, "", 0); k > 0 {
			t.Fatalf("seed %d: %d deaths from 2.5 s pauses", seed, k)
		}
		if !cl.converged() {
			t.Fatalf("seed %d: not all alive after pauses", seed)
		}
		susp, alive := cl.memberEvents(membership.MemberSuspect, "", 0), cl.memberEvents(membership.MemberAlive, "", 0)
		if susp == 0 || alive == 0 {
			t.Fatalf("seed %d: pauses caused %d suspicions and %d alive events; want some of each", seed, susp, alive)
		}
		t.Logf("seed %d: %d suspicions and %d alive events", seed, susp, alive)
		var refuted uint64
		for round := 0; round < 5; round++ {
			refuted += cl.core(1 + round*5).Stats().Refutations
		}
		if refuted == 0 {
			t.Fatalf("seed %d: paused members never refuted", seed)
		}
	})
}

func TestSimLeaveAndMeta(t *testing.T) {
	bothDrivers(t, func(t *testing.T, netCfg func(uint64) sim.Config) {
		seed := randomSeed(t)
		const n = 20
		cl := newCluster(t, seed, n, netCfg(seed), swim.DefaultTestConfig())
		cl.waitConverged(10 * time.Second)
		cl.s.Invoke(3, func(now time.Duration) {
			if err := cl.core(3).SetMeta(now, map[string]string{"name": "three", "zone": "a"}); err != nil {
				t.Fatal(err)
			}
		})
		cl.s.Invoke(4, func(now time.Duration) {
			if err := cl.core(4).Leave(now); err != nil {
				t.Fatal(err)
			}
		})
		ok := cl.s.RunUntil(cl.s.Now()+5*time.Second, func() bool {
			for i := 0; i < n; i++ {
				if i == 4 {
					continue
				}
				m3, _ := cl.core(i).Member(sim.NodeName(3))
				m4, _ := cl.core(i).Member(sim.NodeName(4))
				if (i != 3 && m3.Meta["name"] != "three") || m4.State != membership.StateLeft {
					return false
				}
			}
			return true
		})
		if !ok {
			t.Fatalf("seed %d: meta or leave not known to all within 5 s", seed)
		}
		if k := cl.memberEvents(membership.MemberUpdated, sim.NodeName(3), 0); k < n-2 {
			t.Fatalf("seed %d: %d updated events for n3, want %d", seed, k, n-2)
		}
		if k := cl.memberEvents(membership.MemberLeft, sim.NodeName(4), 0); k != n-1 {
			t.Fatalf("seed %d: %d left events for n4, want %d", seed, k, n-1)
		}
	})
}

func TestSimSameSeedSameTrace(t *testing.T) {
	seed := randomSeed(t)
	run := func() uint64 {
		net := sim.DefaultConfig(seed)
		net.Loss = 0.05
		net.TraceContent = true
		cl := newCluster(t, seed, 20, net, swim.DefaultTestConfig())
		cl.s.At(15*time.Second, func() { cl.s.Crash(7) })
		cl.s.Run(40 * time.Second)
		return cl.s.TraceHash()
	}
	if a, b := run(), run(); a != b {
		t.Fatalf("seed %d: two runs differ: %x %x", seed, a, b)
	}
}

// bothDrivers runs f with the simulator ticking SWIM every TickInterval
// and, as the agent does, only at the deadlines it reports (NextDeadline).
func bothDrivers(t *testing.T, f func(t *testing.T, netCfg func(uint64) sim.Config)) {
	for _, deadlines := range []bool{false, true} {
		name := "fixed-ticks"
		if deadlines {
			name = "deadlines"
		}
		t.Run(name, func(t *testing.T) {
			f(t, func(seed uint64) sim.Config { return netCfgFor(seed, deadlines) })
		})
	}
}

func netCfgFor(seed uint64, deadlines bool) sim.Config {
	c := sim.DefaultConfig(seed)
	c.Deadlines = deadlines
	return c
}

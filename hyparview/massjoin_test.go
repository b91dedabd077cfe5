package hyparview

import (
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/sim"
)

// massJoin has n-1 nodes join node 0 within the first second (as 199
// agents started together with one seed do), with connection setup
// modelled, and runs for d. It returns the sum of the nodes' counters.
func massJoin(t *testing.T, seed uint64, n int, cfg Config, d time.Duration) (*sim.Sim, Stats) {
	t.Helper()
	scfg := sim.DefaultConfig(seed)
	scfg.Connect = sim.Uniform{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}
	s := newOverlaySimOn(t, scfg, n, cfg)
	for i := 1; i < n; i++ {
		s.At(time.Duration(s.Rand().IntN(1000))*time.Millisecond, func() {
			s.Invoke(i, func(now time.Duration) { core(s, i).Join(now, membership.Node{ID: s.ID(0)}) })
		})
	}
	s.Run(d)
	var st Stats
	for i := 0; i < n; i++ {
		x := core(s, i).Stats()
		st.Evictions += x.Evictions
		st.NeighborUps += x.NeighborUps
		st.Splices += x.Splices
	}
	return s, st
}

// 200 nodes joining one contact at once: the paper's join evicts a link of
// a full node for each of a joiner's links, and every eviction starts a
// repair; SpliceJoins hands links over instead. Same seed for both: the
// spliced join must evict at most half as often, build fewer links on the
// way, and end as connected and as full.
func TestSimMassJoinSplicesInsteadOfEvicting(t *testing.T) {
	seed := testSeed(t)
	const n = 200
	paper, spliced := DefaultConfig(), DefaultConfig()
	paper.SpliceJoins, spliced.SpliceJoins = false, true
	sp, stp := massJoin(t, seed, n, paper, time.Minute)
	ss, sts := massJoin(t, seed, n, spliced, time.Minute)
	compP, fullP, _ := overlayStats(sp, paper.ActiveSize)
	compS, fullS, asymS := overlayStats(ss, spliced.ActiveSize)
	t.Logf("seed %d: paper: evictions %d links up %d connections %d components %d full %.3f; spliced: evictions %d splices %d links up %d connections %d components %d full %.3f asym %d",
		seed, stp.Evictions, stp.NeighborUps, sp.Stats().Connections, compP, fullP,
		sts.Evictions, sts.Splices, sts.NeighborUps, ss.Stats().Connections, compS, fullS, asymS)
	if 2*sts.Evictions > stp.Evictions {
		t.Errorf("seed %d: spliced joins evicted %d times, the paper's %d", seed, sts.Evictions, stp.Evictions)
	}
	if sts.NeighborUps >= stp.NeighborUps || ss.Stats().Connections >= sp.Stats().Connections {
		t.Errorf("seed %d: spliced joins made %d links and %d connections, the paper's %d and %d",
			seed, sts.NeighborUps, ss.Stats().Connections, stp.NeighborUps, sp.Stats().Connections)
	}
	if compS != 1 || fullS < 0.97 || asymS != 0 {
		t.Errorf("seed %d: after a minute the spliced overlay has %d components, %.3f of views full, %d one-sided links", seed, compS, fullS, asymS)
	}
}

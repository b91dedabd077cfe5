package antientropy

import (
	"fmt"
	"testing"
	"time"
)

// sessionsOver ticks nw for d and returns how many sessions node 0
// started meanwhile.
func sessionsOver(nw *net, d time.Duration) uint64 {
	before := nw.nodes[0].core.Stats().SessionsStarted
	nw.tick(d)
	return nw.nodes[0].core.Stats().SessionsStarted - before
}

// Replicas in sync slow their sessions down to IdleSyncMax, and come back
// to SyncInterval as soon as one of them gets new dots.
func TestIdleSessionsBackOff(t *testing.T) {
	cfg := testConfig() // SyncInterval 1 s, IdleSyncMax 8 s
	nw := newNet(t, 3, cfg, 7)
	nw.write(0, "k", "v")
	nw.tick(10 * time.Second)
	if err := nw.converged(); err != nil {
		t.Fatal(err)
	}
	// Backed off: doubling 1, 2, 4, 8 s reaches 8 s within 15 s; then
	// about one session per 8 s (jitter ±10%).
	nw.tick(20 * time.Second)
	if n := sessionsOver(nw, 80*time.Second); n < 8 || n > 12 {
		t.Fatalf("in sync: node 0 started %d sessions in 80 s; want about 10 (one per IdleSyncMax)", n)
	}
	// A new dot at node 0: back to about one session a second at once.
	nw.write(0, "k2", "v2")
	if n := sessionsOver(nw, 3*time.Second); n < 2 {
		t.Fatalf("after a write: node 0 started %d sessions in 3 s; want at least 2", n)
	}
	nw.tick(10 * time.Second)
	if err := nw.converged(); err != nil {
		t.Fatal(err)
	}
	// A write at one idle replica (no broadcast) still spreads within a
	// few SyncIntervals: the replicas that get new dots speed up.
	nw.tick(30 * time.Second)
	nw.write(1, "k3", "v3")
	nw.tick(5 * time.Second)
	if err := nw.converged(); err != nil {
		t.Fatalf("5 s after a write at an idle replica: %v", err)
	}

	// IdleSyncMax = SyncInterval: no back-off.
	cfg.IdleSyncMax = cfg.SyncInterval
	nw = newNet(t, 3, cfg, 7)
	nw.tick(10 * time.Second)
	if n := sessionsOver(nw, 20*time.Second); n < 17 || n > 23 {
		t.Fatalf("back-off off: node 0 started %d sessions in 20 s; want about 20", n)
	}
}

// tickAtDeadlines advances nw by d, ticking each node only when its
// NextDeadline is due (no sooner than TickInterval/10 after its last
// tick), as the agent does.
func (nw *net) tickAtDeadlines(d time.Duration) (ticks int) {
	end := nw.now + d
	last := make([]time.Duration, len(nw.nodes))
	for i := range last {
		last[i] = nw.now
	}
	due := func(i int) time.Duration {
		c := nw.nodes[i].core
		at, ok := c.NextDeadline()
		lo, hi := last[i]+c.TickInterval()/10, last[i]+time.Second
		switch {
		case !ok || at > hi:
			return hi
		case at < lo:
			return lo
		}
		return at
	}
	for {
		next := end
		for i := range nw.nodes {
			next = min(next, due(i))
		}
		if next >= end {
			nw.now = end
			return ticks
		}
		nw.now = max(nw.now, next)
		for i, n := range nw.nodes {
			if due(i) <= nw.now {
				n.core.Tick(nw.now)
				last[i] = nw.now
				ticks++
				nw.collect(n)
			}
		}
		nw.run()
	}
}

// Ticked only at their deadlines, replicas converge as with a fixed
// cadence, with far fewer ticks.
func TestDeadlineDrivenTicksConverge(t *testing.T) {
	cfg := testConfig()
	nw := newNet(t, 5, cfg, 11)
	for i := range 5 {
		for k := range 20 {
			nw.write(i, fmt.Sprintf("k%d-%d", i, k), "v")
		}
	}
	ticks := nw.tickAtDeadlines(10 * time.Second)
	if err := nw.converged(); err != nil {
		t.Fatalf("after 10 s of deadline-driven ticks (%d ticks): %v", ticks, err)
	}
	// Idle: about one tick per session and prune, not 5 per second.
	ticks = nw.tickAtDeadlines(60 * time.Second)
	if perNode := float64(ticks) / 5 / 60; perNode > 1.5 {
		t.Fatalf("idle: %.2f ticks per node per second; want well under TickInterval's 5", perNode)
	}
	t.Logf("idle: %.2f ticks per node per second", float64(ticks)/5/60)
}

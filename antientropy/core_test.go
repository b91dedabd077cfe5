package antientropy

import (
	"fmt"
	"testing"
)

func TestDeltaSessionPullsAndPushes(t *testing.T) {
	nw := newNet(t, 2, testConfig(), 1)
	for i := 0; i < 20; i++ {
		nw.write(0, fmt.Sprintf("a%d", i%7), fmt.Sprint(i))
		nw.write(1, fmt.Sprintf("b%d", i%5), fmt.Sprint(i))
	}
	nw.sync(0, 1)
	if err := nw.converged(); err != nil {
		t.Fatal(err)
	}
	st := nw.nodes[0].core.Stats()
	if st.DeltaSessions != 1 || st.TreeSessions != 0 {
		t.Fatalf("want one delta session: %+v", st)
	}
	// Both know each other's clock now: a second session is idle.
	nw.sync(1, 0)
	nw.resetBytes()
	nw.sync(0, 1)
	for k, b := range nw.bytes {
		if b > 64 {
			t.Errorf("idle session sent %d bytes %s->%s", b, k[0], k[1])
		}
	}
	// At rest, every dot acked by every member: the log is empty.
	nw.tick(3 * nw.nodes[0].core.cfg.PruneInterval)
	for _, n := range nw.nodes {
		if e := n.core.LogEntries(); e != 0 {
			t.Errorf("%s: %d log entries at rest", n.id, e)
		}
	}
}

func TestTreeSessionWhenLogCannotAnswer(t *testing.T) {
	cfg := testConfig()
	cfg.MaxLogAnswer = 0
	nw := newNet(t, 2, cfg, 2)
	for i := 0; i < 300; i++ {
		nw.write(1, fmt.Sprintf("k%d", i), fmt.Sprint(i))
	}
	for i := 0; i < 30; i++ {
		nw.write(0, fmt.Sprintf("k%d", i*3), "zz")
	}
	nw.sync(0, 1)
	nw.sync(1, 0)
	if err := nw.converged(); err != nil {
		t.Fatal(err)
	}
	if st := nw.nodes[0].core.Stats(); st.TreeSessions != 1 {
		t.Fatalf("want a tree session: %+v", st)
	}
}

// Dots that arrive out of order (a broadcast overtaking an earlier one)
// are all logged, so a peer lacking them is answered from the log: the
// earlier dot fell below the window's start and was dropped, and the peer
// needed a Merkle walk.
func TestOutOfOrderDotsAreLogged(t *testing.T) {
	nw := newNet(t, 3, testConfig(), 1)
	d1 := nw.write(0, "k1", "v1")
	d2 := nw.write(0, "k2", "v2")
	from, to := nw.nodes[0], nw.nodes[1]
	for _, w := range []struct {
		key string
		d   Dot
	}{{"k2", d2}, {"k1", d1}} { // n1 gets n0's second write first
		st, _ := from.store.Get(w.key)
		if _, err := to.store.Merge(w.key, st); err != nil {
			t.Fatal(err)
		}
		if err := to.core.Applied(nw.now, w.key, []Dot{w.d}); err != nil {
			t.Fatal(err)
		}
	}
	if e := to.core.LogEntries(); e != 2 {
		t.Fatalf("n1 logged %d of the 2 dots", e)
	}
	nw.sync(2, 1) // n2 has nothing: n1 answers from its log
	if st := nw.nodes[2].core.Stats(); st.DeltaSessions != 1 || st.TreeSessions != 0 {
		t.Fatalf("want one delta session and no Merkle walk: %+v", st)
	}
	for _, k := range []string{"k1", "k2"} {
		if _, ok := nw.nodes[2].store.Get(k); !ok {
			t.Fatalf("n2 lacks %s", k)
		}
	}
}

// A dot at or below what the log pruned is not logged again.
func TestDotBelowPrunedFloorIgnored(t *testing.T) {
	var l dotLog
	n := NodeID("n")
	for c := uint64(5); c <= 8; c++ {
		l.add(Dot{n, c}, fmt.Sprint("k", c), 100)
	}
	l.add(Dot{n, 3}, "k3", 100) // late, above any floor: extends the window back
	if k, ok := l.lookup(Dot{n, 3}); !ok || k != "k3" || l.entries != 5 {
		t.Fatalf("late dot 3: %q %v, %d entries", k, ok, l.entries)
	}
	l.prune(func(NodeID) uint64 { return 6 })
	l.add(Dot{n, 4}, "k4", 100) // below the pruned floor
	if _, ok := l.lookup(Dot{n, 4}); ok || l.entries != 2 {
		t.Fatalf("a dot below the pruned floor was logged: %d entries", l.entries)
	}
	var m dotLog // a window of 10..12 with a span of 4
	for c := uint64(10); c <= 12; c++ {
		m.add(Dot{n, c}, fmt.Sprint("k", c), 4)
	}
	m.add(Dot{n, 5}, "k5", 4) // would stretch the window to 8 slots
	m.add(Dot{n, 9}, "k9", 4) // 4 slots: fits
	if _, ok := m.lookup(Dot{n, 5}); ok || m.entries != 4 {
		t.Fatalf("span bound: %d entries, dot 5 logged %v", m.entries, ok)
	}
}

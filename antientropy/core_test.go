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

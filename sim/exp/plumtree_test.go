package exp

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// TestPlumtreeSmall runs the whole experiment on a small network.
func TestPlumtreeSmall(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	cfg := DefaultPlumtreeConfig(300, seed)
	cfg.Warmup, cfg.Steady, cfg.ChurnCycles, cfg.ChurnPerCycle, cfg.Recovery = 5, 5, 10, 3, 3
	tables, err := Plumtree(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		for _, tb := range tables {
			tb.Print(os.Stdout)
		}
	}
	// Under churn every node that stays alive delivers every message,
	// if not always within the message's cycle.
	never := ""
	for _, row := range tables[1].Rows {
		if row[0] == churnNeverRow {
			never = row[1]
		}
	}
	if never != "0" {
		t.Fatalf("seed %d: %q = %q, want 0", seed, churnNeverRow, never)
	}
}

// TestPlumtreeFull runs the full experiment when PLUMTREE_NODES is set,
// until `hearsay sim plumtree` exists:
//
//	PLUMTREE_NODES=10000 PLUMTREE_SEED=1 go test ./sim/exp/ -run PlumtreeFull -v -timeout 2h
func TestPlumtreeFull(t *testing.T) {
	nodes, _ := strconv.Atoi(os.Getenv("PLUMTREE_NODES"))
	if nodes == 0 {
		t.Skip("set PLUMTREE_NODES to run")
	}
	seed, _ := strconv.ParseUint(os.Getenv("PLUMTREE_SEED"), 10, 64)
	cfg := DefaultPlumtreeConfig(nodes, seed)
	cfg.Core.PerOriginTrees = os.Getenv("PLUMTREE_PER_ORIGIN") != ""
	tables, err := Plumtree(cfg, func(done, total int, what string) {
		if done%10 == 0 {
			t.Logf("%d/%d %s", done, total, what)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		tb.Print(os.Stdout)
	}
}

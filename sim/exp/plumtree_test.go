package exp

import (
	"os"
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
}

package exp

import (
	"flag"
	"os"
	"testing"
	"time"
)

var aeFull = flag.Bool("ae.full", false, "run the full anti-entropy experiment (1M keys, 1,000 nodes) and print its tables")

func TestAntiEntropySmall(t *testing.T) {
	cfg := DefaultAntiEntropyConfig()
	cfg.PairKeys, cfg.Diverged = 5000, []int{10, 500}
	cfg.Nodes, cfg.Partition, cfg.Keys = 40, 30*time.Second, 100
	cfg.ConvergeSizes = []int{10, 40}
	tables, err := AntiEntropy(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 5 {
		t.Fatalf("%d tables", len(tables))
	}
	if testing.Verbose() {
		for _, tb := range tables {
			tb.Print(os.Stdout)
		}
	}
}

// TestAntiEntropyFull is the run behind docs/antientropy.md:
//
//	go test ./sim/exp -run TestAntiEntropyFull -ae.full -v -timeout 60m
func TestAntiEntropyFull(t *testing.T) {
	if !*aeFull {
		t.Skip("needs -ae.full")
	}
	tables, err := AntiEntropy(DefaultAntiEntropyConfig(), func(done, total int, what string) {
		t.Logf("%d/%d %s", done, total, what)
	})
	for _, tb := range tables {
		tb.Print(os.Stdout)
	}
	if err != nil {
		t.Fatal(err)
	}
}

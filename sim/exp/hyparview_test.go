package exp

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
)

// TestHyParViewSmall runs the whole experiment on a small overlay.
func TestHyParViewSmall(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	cfg := DefaultHyParViewConfig()
	cfg.Seed = seed
	cfg.Nodes = 500
	cfg.Cycles = 20
	cfg.Fail = []float64{0.5, 0.9}
	cfg.PartitionNodes = 300
	cfg.PartitionRuns = 1
	tables, err := HyParView(cfg, nil)
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	for _, tb := range tables {
		tb.Print(os.Stdout)
	}
	if got := tables[0].Rows[1][1]; got != "1" {
		t.Fatalf("seed %d: %s components", seed, got)
	}
}

// TestHyParViewFull runs the paper-scale experiment when HEARSAY_HV_FULL
// is set (it takes minutes): go test ./sim/exp/ -run HyParViewFull -v
// -timeout 2h. HEARSAY_HV_NODES, HEARSAY_HV_FAIL=none, HEARSAY_HV_PART=0,
// HEARSAY_HV_SILENT=1 and HEARSAY_HV_SEED adjust it.
func TestHyParViewFull(t *testing.T) {
	if os.Getenv("HEARSAY_HV_FULL") == "" {
		t.Skip("set HEARSAY_HV_FULL=1 to run the paper-scale experiment")
	}
	cfg := DefaultHyParViewConfig()
	if v := os.Getenv("HEARSAY_HV_NODES"); v != "" {
		fmt.Sscan(v, &cfg.Nodes)
	}
	if v := os.Getenv("HEARSAY_HV_SEED"); v != "" {
		fmt.Sscan(v, &cfg.Seed)
	}
	if os.Getenv("HEARSAY_HV_FAIL") == "none" {
		cfg.Fail = nil
	}
	if v := os.Getenv("HEARSAY_HV_PART"); v != "" {
		fmt.Sscan(v, &cfg.PartitionNodes)
	}
	if os.Getenv("HEARSAY_HV_SILENT") != "" {
		cfg.CrashReset = false
	}
	t.Logf("seed %d nodes %d", cfg.Seed, cfg.Nodes)
	tables, err := HyParView(cfg, func(done, total int, what string) {})
	if err != nil {
		t.Fatalf("seed %d: %v", cfg.Seed, err)
	}
	for _, tb := range tables {
		tb.Print(os.Stdout)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("\nruntime: Sys %.0f MiB, HeapSys %.0f MiB, GC cycles %d\n", float64(ms.Sys)/(1<<20), float64(ms.HeapSys)/(1<<20), ms.NumGC)
}

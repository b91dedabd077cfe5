package exp

import (
	"fmt"
	"os"
	"runtime"
	"strings"
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
// -timeout 2h. HEARSAY_HV_NODES, HEARSAY_HV_FAIL=none (or a list such as
// 0.5,0.9), HEARSAY_HV_CYCLES, HEARSAY_HV_PART=0, HEARSAY_HV_SILENT=1 and
// HEARSAY_HV_SEED adjust it.
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
	switch v := os.Getenv("HEARSAY_HV_FAIL"); v {
	case "":
	case "none":
		cfg.Fail = nil
	default:
		cfg.Fail = nil
		for _, f := range strings.Split(v, ",") {
			var x float64
			fmt.Sscan(f, &x)
			cfg.Fail = append(cfg.Fail, x)
		}
	}
	if v := os.Getenv("HEARSAY_HV_CYCLES"); v != "" {
		fmt.Sscan(v, &cfg.Cycles)
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

// BenchmarkHyParViewOverlay10k measures the simulator on the paper's
// overlay: 10,000 nodes join, then 50 shuffle cycles.
func BenchmarkHyParViewOverlay10k(b *testing.B) {
	cfg := DefaultHyParViewConfig()
	cfg.Fail, cfg.PartitionNodes = nil, 0
	for i := 0; i < b.N; i++ {
		if _, err := HyParView(cfg, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHyParViewSameSeedSameTrace: the experiment's runs replay exactly.
func TestHyParViewSameSeedSameTrace(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	cfg := DefaultHyParViewConfig()
	run := func() uint64 {
		r, err := buildHyParView(seed, 300, 5, cfg.Core, cfg.JoinGap, nil)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		r.crash(0.5, true)
		r.broadcast(true)
		r.s.RunFor(2 * cfg.Core.ShuffleInterval)
		return r.s.TraceHash()
	}
	if a, b := run(), run(); a != b {
		t.Fatalf("seed %d: trace hashes differ: %x %x", seed, a, b)
	}
}

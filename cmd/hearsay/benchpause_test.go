package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/bench"
	"github.com/hearsay-mesh/hearsay/sim/exp"
)

// TestBenchPauseTiny runs `hearsay bench pause` at the smallest scale: 3
// agent processes and 3 memberlist member processes, the last one
// stopped twice for 500 ms. Pauses that short must not kill anyone, and
// both pauses must be recorded for both implementations.
func TestBenchPauseTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 6 processes and builds bench/memberlist")
	}
	cfg := bench.DefaultPauseConfig()
	cfg.Nodes = 3
	cfg.Pauses = []time.Duration{500 * time.Millisecond}
	cfg.Every = time.Second
	cfg.Duration = 2 * time.Second
	cfg.Settle = 0
	cfg.FormTimeout = 20 * time.Second
	cfg.Recover = 10 * time.Second
	cfg.HearsayBin = hearsayBinary(t)
	cfg.MemberlistDir = memberlistDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tables, err := bench.Pause(ctx, cfg, nil)
	table := oneTable(t, tables, err)
	rows := map[string][]string{}
	for _, r := range table.Rows {
		rows[r[1]] = r[2:]
	}
	want := map[string]string{
		"pauses":                                 "2",
		"pauses in which it was declared dead":   "0",
		"healthy members declared dead (events)": "0",
	}
	for metric, v := range want {
		got, ok := rows[metric]
		if !ok {
			t.Fatalf("no row %q in %v", metric, table.Rows)
		}
		for i, impl := range []string{"hearsay", "memberlist"} {
			if got[i] != v {
				t.Errorf("%s: %s = %s; want %s", impl, metric, got[i], v)
			}
		}
	}
	if t.Failed() {
		t.Logf("table: %v\nnotes: %v", table.Rows, tables[0].Notes)
	}
}

// memberlistDir is bench/memberlist, the separate module the process
// benchmarks build their memberlist members from.
func memberlistDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "bench", "memberlist"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// oneTable fails the test unless a benchmark returned exactly one table.
func oneTable(t *testing.T, tables []*exp.Table, err error) *exp.Table {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 1 {
		t.Fatalf("%d tables; want 1", len(tables))
	}
	return tables[0]
}

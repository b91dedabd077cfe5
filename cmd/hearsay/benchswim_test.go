package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/bench"
)

// TestBenchSwimProcsTiny runs `hearsay bench swim --procs` at the
// smallest scale: 4 agent processes and 4 memberlist member processes,
// one metadata update and one crash (SIGKILL) each. Both sides must form,
// spread the update to everyone, detect the crash everywhere and accuse
// nobody else.
func TestBenchSwimProcsTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 8 processes and builds bench/memberlist")
	}
	cfg := bench.DefaultSwimConfig()
	cfg.Nodes = []int{4}
	cfg.Procs = true
	cfg.Crashes = 1
	cfg.MetaTrials = 1
	cfg.Quiet = time.Second
	cfg.Settle = 0
	cfg.FormTimeout = 20 * time.Second
	cfg.DetectTimeout = 20 * time.Second
	cfg.MetaTimeout = 10 * time.Second
	cfg.HearsayBin = hearsayBinary(t)
	cfg.MemberlistDir = memberlistDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tables, err := bench.Swim(ctx, cfg, nil)
	table := oneTable(t, tables, err)
	rows := map[string][]string{}
	for _, r := range table.Rows {
		rows[r[2]] = r[3:5]
	}
	want := map[string]string{
		"others seen alive at that time (%)": "100",
		"crashes not detected everywhere":    "0",
		"false deaths (events)":              "0",
		"receivers missed at the timeout":    "0",
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
	// CPU is counted in 10 ms ticks per process: over a 1 s window four
	// idle memberlist members may show 0, so only its presence is checked.
	for _, metric := range []string{"process CPU ms per member per second (quiet window)", "resident set per member process (MB)"} {
		for i, impl := range []string{"hearsay", "memberlist"} {
			got := rows[metric]
			if got == nil || got[i] == "-" || (got[i] == "0" && !strings.HasPrefix(metric, "process CPU")) {
				t.Errorf("%s: %s = %v; want a figure", impl, metric, got)
			}
		}
	}
	if t.Failed() {
		t.Logf("table: %v\nnotes: %v", table.Rows, tables[0].Notes)
	}
}

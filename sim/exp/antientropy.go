package exp

import (
	"fmt"
	"math"
	"time"

	"github.com/hearsay-mesh/hearsay/antientropy"
)

// AntiEntropyConfig sets the anti-entropy experiment: byte counts of the
// sync paths between two replicas over the real encodings, and simulated
// clusters (a healed partition, and anti-entropy without broadcast).
type AntiEntropyConfig struct {
	// Seed drives every random choice.
	Seed uint64
	// PairKeys is the keyspace size of the two-replica measurements
	// (idle, diverged, at rest). Brief: 1,000,000.
	PairKeys int
	// Diverged lists how many of PairKeys differ in the diverged runs.
	Diverged []int
	// Nodes is the size of the partitioned cluster; 0 skips it.
	Nodes int
	// Partition is how long the two halves stay apart, in virtual time.
	Partition time.Duration
	// WritersPerSide is how many nodes of each half write during the
	// partition; WriteRate is writes per second per half; Keys is the
	// simulated keyspace.
	WritersPerSide int
	WriteRate      float64
	Keys           int
	// ConvergeSizes lists the cluster sizes of the anti-entropy-only
	// convergence runs (no broadcast at all).
	ConvergeSizes []int
	// Core is the anti-entropy configuration of the simulated nodes; the
	// zero value means antientropy.SimConfig().
	Core antientropy.Config
}

// DefaultAntiEntropyConfig is the setting.
func DefaultAntiEntropyConfig() AntiEntropyConfig {
	return AntiEntropyConfig{
		Seed:           1,
		PairKeys:       1_000_000,
		Diverged:       []int{10, 10_000},
		Nodes:          1000,
		Partition:      10 * time.Minute,
		WritersPerSide: 5,
		WriteRate:      2,
		Keys:           500,
		ConvergeSizes:  []int{10, 100, 1000},
		Core:           antientropy.SimConfig(),
	}
}

func (c *AntiEntropyConfig) fill() error {
	if c.Core == (antientropy.Config{}) {
		c.Core = antientropy.SimConfig()
	}
	if c.PairKeys < 0 || c.Nodes < 0 || c.Nodes == 1 {
		return fmt.Errorf("exp: AntiEntropyConfig.PairKeys = %d, Nodes = %d; want >= 0 (Nodes 0 or >= 2)", c.PairKeys, c.Nodes)
	}
	for _, d := range c.Diverged {
		if d <= 0 || d > c.PairKeys {
			return fmt.Errorf("exp: AntiEntropyConfig.Diverged has %d; want in [1, PairKeys=%d]", d, c.PairKeys)
		}
	}
	if c.Nodes > 0 && (c.WritersPerSide < 1 || c.WritersPerSide > c.Nodes/2 || c.WriteRate <= 0 || c.Keys < 1 || c.Partition <= 0) {
		return fmt.Errorf("exp: AntiEntropyConfig: want 1 <= WritersPerSide <= Nodes/2, WriteRate > 0, Keys >= 1, Partition > 0")
	}
	for _, n := range c.ConvergeSizes {
		if n < 2 {
			return fmt.Errorf("exp: AntiEntropyConfig.ConvergeSizes has %d; want >= 2", n)
		}
	}
	return c.Core.Validate()
}

// AntiEntropy runs the experiment and returns its tables.
func AntiEntropy(cfg AntiEntropyConfig, progress Progress) ([]*Table, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	total := 1 + 2*len(cfg.Diverged) + len(cfg.ConvergeSizes) + b2i(cfg.Nodes > 0)
	done := 0
	next := func(what string) {
		progress.report(done, total, what)
		done++
	}
	var tables []*Table
	if cfg.PairKeys > 0 {
		next("idle")
		t, err := idleTable(cfg)
		if err != nil {
			return nil, err
		}
		tables = append(tables, t)
		dt, rest, err := divergedTables(cfg, next)
		if err != nil {
			return nil, err
		}
		tables = append(tables, dt, rest)
	}
	if cfg.Nodes > 0 {
		next("partition")
		t, err := partitionHealTable(cfg)
		if err != nil {
			return nil, err
		}
		tables = append(tables, t)
	}
	if len(cfg.ConvergeSizes) > 0 {
		t := &Table{
			Title:   "Anti-entropy alone (no broadcast): rounds until every node holds 10 writes made at one node",
			Columns: []string{"nodes", "rounds", "log2(n)", "rounds/log2(n)", "sessions/node", "bytes/node"},
		}
		for _, n := range cfg.ConvergeSizes {
			next(fmt.Sprintf("converge n=%d", n))
			r, err := convergeAlone(cfg, n)
			if err != nil {
				return nil, err
			}
			l := math.Log2(float64(n))
			t.Add(n, r.rounds, l, float64(r.rounds)/l, r.sessionsPerNode, r.bytesPerNode)
		}
		t.Notes = []string{fmt.Sprintf("a round is one SyncInterval (%v): each node starts one push-pull session with a random member", cfg.Core.SyncInterval)}
		tables = append(tables, t)
	}
	progress.report(total, total, "done")
	return tables, nil
}

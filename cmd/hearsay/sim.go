package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hearsay-mesh/hearsay/sim"
	"github.com/hearsay-mesh/hearsay/sim/exp"
	"github.com/hearsay-mesh/hearsay/swim"
	"github.com/urfave/cli/v2"
)

func simCommand() *cli.Command {
	return &cli.Command{
		Name:  "sim",
		Usage: "run an experiment in the deterministic simulator (same seed, same run)",
		Subcommands: []*cli.Command{
			simHyParViewCommand(),
			simPlumtreeCommand(),
			simSwimCommand(),
			simAntiEntropyCommand(),
		},
	}
}

func simHyParViewCommand() *cli.Command {
	d := exp.DefaultHyParViewConfig()
	return &cli.Command{
		Name:  "hyparview",
		Usage: "reproduce the HyParView paper: overlay properties, flooding reliability after mass failure, partition healing",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "nodes", Value: d.Nodes, Usage: "overlay size"},
			&cli.StringFlag{Name: "fail", Value: "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,0.95", Usage: "fractions of nodes crashed at once (empty skips)"},
			&cli.IntFlag{Name: "cycles", Value: d.Cycles, Usage: "shuffle cycles before measuring"},
			&cli.IntFlag{Name: "path-samples", Value: d.PathSamples, Usage: "BFS sources for the average shortest path"},
			&cli.IntFlag{Name: "partition-nodes", Value: d.PartitionNodes, Usage: "size of the partition experiment (0 skips it)"},
			&cli.IntFlag{Name: "partition-cycles", Value: d.PartitionCycles, Usage: "cycles the two halves stay apart"},
			&cli.IntFlag{Name: "partition-runs", Value: d.PartitionRuns, Usage: "seeds the partition experiment is repeated with"},
			&cli.BoolFlag{Name: "silent-crash", Usage: "crashed nodes vanish silently (noticed on the next send) instead of their connections being reset"},
			seedFlag(), csvFlag(), quietFlag(),
		},
		Action: func(c *cli.Context) error {
			cfg := exp.DefaultHyParViewConfig()
			cfg.Nodes = c.Int("nodes")
			cfg.Seed = c.Uint64("seed")
			cfg.Cycles = c.Int("cycles")
			cfg.PathSamples = c.Int("path-samples")
			cfg.PartitionNodes = c.Int("partition-nodes")
			cfg.PartitionCycles = c.Int("partition-cycles")
			cfg.PartitionRuns = c.Int("partition-runs")
			cfg.CrashReset = !c.Bool("silent-crash")
			fail, err := parseFloats(c.String("fail"))
			if err != nil {
				return withCode(exitUsage, err)
			}
			cfg.Fail = fail
			return runExperiment(c, func(p exp.Progress) ([]*exp.Table, error) {
				return exp.HyParView(cfg, p)
			})
		},
	}
}

func simPlumtreeCommand() *cli.Command {
	d := exp.DefaultPlumtreeConfig(10000, 1)
	return &cli.Command{
		Name:  "plumtree",
		Usage: "RMR, last delivery hop and reliability per cycle: single sender, random senders, churn, mass crashes",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "nodes", Value: d.Nodes, Usage: "nodes"},
			&cli.IntFlag{Name: "warmup", Value: d.Warmup, Usage: "single-sender cycles before measuring"},
			&cli.IntFlag{Name: "steady", Value: d.Steady, Usage: "cycles measured in scenarios (a) and (b)"},
			&cli.IntFlag{Name: "churn-cycles", Value: d.ChurnCycles, Usage: "scenario (c): cycles of churn"},
			&cli.IntFlag{Name: "churn", Value: d.ChurnPerCycle, Usage: "scenario (c): nodes crashed per cycle"},
			&cli.StringFlag{Name: "crash", Value: "0.4,0.6,0.8", Usage: "scenario (d): fractions crashed at once"},
			&cli.IntFlag{Name: "recovery", Value: d.Recovery, Usage: "scenario (d): cycles measured after the crash"},
			&cli.BoolFlag{Name: "per-origin", Value: d.Core.PerOriginTrees, Usage: "plumtree: a tree per sender (forked from the shared one) instead of one shared tree"},
			seedFlag(), csvFlag(), quietFlag(),
		},
		Action: func(c *cli.Context) error {
			cfg := exp.DefaultPlumtreeConfig(c.Int("nodes"), c.Uint64("seed"))
			cfg.Core.PerOriginTrees = c.Bool("per-origin")
			cfg.Warmup = c.Int("warmup")
			cfg.Steady = c.Int("steady")
			cfg.ChurnCycles = c.Int("churn-cycles")
			cfg.ChurnPerCycle = c.Int("churn")
			cfg.Recovery = c.Int("recovery")
			crash, err := parseFloats(c.String("crash"))
			if err != nil {
				return withCode(exitUsage, err)
			}
			cfg.CrashFractions = crash
			return runExperiment(c, func(p exp.Progress) ([]*exp.Table, error) {
				return exp.Plumtree(cfg, p)
			})
		},
	}
}

func simSwimCommand() *cli.Command {
	d := exp.DefaultSwimConfig()
	return &cli.Command{
		Name:  "swim",
		Usage: "SWIM + Lifeguard: detection time, false positives, bytes per member, dissemination, FUSE, join",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "nodes", Value: "50,200", Usage: "cluster sizes N (comma-separated)"},
			&cli.IntFlag{Name: "crashes", Value: d.Crashes, Usage: "members crashed, one at a time, per size (k)"},
			&cli.Float64Flag{Name: "loss", Value: d.Loss, Usage: "message loss probability (p)"},
			&cli.IntFlag{Name: "slow", Value: d.Slow, Usage: "slow members"},
			&cli.DurationFlag{Name: "slow-delay", Value: d.SlowDelay, Usage: "extra delay on a slow member's links"},
			&cli.StringFlag{Name: "detector", Value: d.Detector, Usage: "swim or phi"},
			&cli.StringFlag{Name: "pauses", Value: "1.5s,2s,3s,4s", Usage: "SIGSTOP-like pause lengths tried"},
			&cli.IntFlag{Name: "pause-trials", Value: d.PauseTrials, Usage: "trials per pause length"},
			&cli.IntFlag{Name: "groups", Value: d.Groups, Usage: "FUSE groups in the FUSE cluster"},
			&cli.StringFlag{Name: "join", Value: "50,200", Usage: "cluster sizes for join-through-one-seed"},
			&cli.StringFlag{Name: "connect", Usage: "model connection setup: each connection costs a uniform `MIN-MAX` (e.g. 50ms-150ms), one at a time per member, as libp2p's dial, handshake and identify do (default: none, datagrams)"},
			&cli.DurationFlag{Name: "connect-timeout", Usage: "probes of a member without a connection wait this long for one (swim ConnectTimeout; the agent uses 10s; 0: no wait)"},
			&cli.IntFlag{Name: "inconclusive", Usage: "probes in a row whose connection wait runs out allowed without a verdict (swim InconclusiveProbes; the agent uses 3)"},
			seedFlag(), csvFlag(), quietFlag(),
		},
		Action: func(c *cli.Context) error {
			cfg := exp.DefaultSwimConfig()
			cfg.Seed = c.Uint64("seed")
			var err error
			if cfg.Sizes, err = parseInts(c.String("nodes")); err != nil {
				return withCode(exitUsage, fmt.Errorf("--nodes: %w", err))
			}
			if cfg.JoinSizes, err = parseInts(c.String("join")); err != nil {
				return withCode(exitUsage, fmt.Errorf("--join: %w", err))
			}
			if v := c.String("connect"); v != "" {
				lo, hi, ok := strings.Cut(v, "-")
				minD, err1 := time.ParseDuration(lo)
				maxD, err2 := time.ParseDuration(hi)
				if !ok || err1 != nil || err2 != nil || minD < 0 || maxD < minD {
					return withCode(exitUsage, fmt.Errorf("--connect %q: want MIN-MAX durations, e.g. 50ms-150ms", v))
				}
				cfg.Connect = sim.Uniform{Min: minD, Max: maxD}
			}
			cfg.Swim = swim.DefaultLANConfig()
			cfg.Swim.ConnectTimeout = c.Duration("connect-timeout")
			cfg.Swim.InconclusiveProbes = c.Int("inconclusive")
			cfg.Crashes = c.Int("crashes")
			cfg.Loss = c.Float64("loss")
			cfg.Slow = c.Int("slow")
			cfg.SlowDelay = c.Duration("slow-delay")
			cfg.Detector = c.String("detector")
			cfg.PauseTrials = c.Int("pause-trials")
			cfg.Groups = c.Int("groups")
			cfg.Pauses = nil
			for _, p := range strings.Split(c.String("pauses"), ",") {
				if p = strings.TrimSpace(p); p == "" {
					continue
				}
				d, err := time.ParseDuration(p)
				if err != nil {
					return withCode(exitUsage, fmt.Errorf("--pauses: %w", err))
				}
				cfg.Pauses = append(cfg.Pauses, d)
			}
			return runExperiment(c, func(p exp.Progress) ([]*exp.Table, error) {
				return exp.Swim(cfg, p)
			})
		},
	}
}

// parseInts parses "50,200".
func parseInts(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		v, err := strconv.Atoi(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", part)
		}
		out = append(out, v)
	}
	return out, nil
}

func simAntiEntropyCommand() *cli.Command {
	d := exp.DefaultAntiEntropyConfig()
	return &cli.Command{
		Name:  "antientropy",
		Usage: "anti-entropy: idle and diverged sessions (bitmap and Merkle paths), partition heal, convergence rounds",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "keys", Value: d.PairKeys, Usage: "keyspace of the two-replica measurements (n)"},
			&cli.StringFlag{Name: "diverged", Value: "10,10000", Usage: "how many keys differ (d), comma-separated"},
			&cli.IntFlag{Name: "nodes", Value: d.Nodes, Usage: "size of the partitioned cluster (0 skips it)"},
			&cli.DurationFlag{Name: "partition", Value: d.Partition, Usage: "how long the two halves stay apart (virtual time)"},
			&cli.StringFlag{Name: "converge", Value: "10,100,1000", Usage: "cluster sizes for convergence by anti-entropy alone"},
			seedFlag(), csvFlag(), quietFlag(),
		},
		Action: func(c *cli.Context) error {
			cfg := exp.DefaultAntiEntropyConfig()
			cfg.Seed = c.Uint64("seed")
			cfg.PairKeys = c.Int("keys")
			cfg.Nodes = c.Int("nodes")
			cfg.Partition = c.Duration("partition")
			var err error
			if cfg.Diverged, err = parseInts(c.String("diverged")); err != nil {
				return withCode(exitUsage, fmt.Errorf("--diverged: %w", err))
			}
			if cfg.ConvergeSizes, err = parseInts(c.String("converge")); err != nil {
				return withCode(exitUsage, fmt.Errorf("--converge: %w", err))
			}
			return runExperiment(c, func(p exp.Progress) ([]*exp.Table, error) {
				return exp.AntiEntropy(cfg, p)
			})
		},
	}
}

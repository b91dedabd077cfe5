package main

import (
	"github.com/hearsay-mesh/hearsay/sim/exp"
	"github.com/urfave/cli/v2"
)

func simCommand() *cli.Command {
	return &cli.Command{
		Name:  "sim",
		Usage: "run an experiment in the deterministic simulator (same seed, same run)",
		Subcommands: []*cli.Command{
			simHyParViewCommand(),
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

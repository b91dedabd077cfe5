package main

import (
	"github.com/hearsay-mesh/hearsay/agent"
	"github.com/urfave/cli/v2"
)

// benchSwimMemberCommand is `hearsay bench swim member`, hidden: an agent
// run as `hearsay agent` runs it (same banner, JSON-RPC, libp2p metrics),
// with the SWIM, plumtree and anti-entropy tick interval as a flag, for
// `hearsay bench swim --procs --member-tick` to measure what the tick
// rate costs an idle member.
func benchSwimMemberCommand() *cli.Command {
	return &cli.Command{
		Name:   "member",
		Usage:  "(bench) one agent with a given tick interval",
		Hidden: true,
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "listen", Value: cli.NewStringSlice("/ip4/127.0.0.1/tcp/0")},
			&cli.StringSliceFlag{Name: "join"},
			&cli.StringFlag{Name: "data-dir", Required: true},
			&cli.StringFlag{Name: "datastore", Value: agent.DatastoreMemory},
			&cli.BoolFlag{Name: "keep-identity"},
			&cli.StringFlag{Name: "rpc-listen", Value: "127.0.0.1:0"},
			&cli.StringFlag{Name: "log-format", Value: "json"},
			&cli.StringFlag{Name: "log-level", Value: "info"},
			maxProcsFlag(),
			&cli.DurationFlag{Name: "tick", Usage: "SWIM, plumtree and anti-entropy tick interval (0: defaults)"},
		},
		Action: func(c *cli.Context) error {
			return runAgentWith(c, func(cfg *agent.Config) {
				if d := c.Duration("tick"); d > 0 {
					cfg.Swim.TickInterval, cfg.Plumtree.TickInterval, cfg.AntiEntropy.TickInterval = d, d, d
				}
			})
		},
	}
}

package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/hearsay-mesh/hearsay/agent"
	"github.com/hearsay-mesh/hearsay/rpc"
	"github.com/prometheus/client_golang/prometheus"
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
			&cli.StringFlag{Name: "rpc-listen", Value: "127.0.0.1:0"},
			&cli.StringFlag{Name: "log-format", Value: "json"},
			&cli.StringFlag{Name: "log-level", Value: "info"},
			&cli.DurationFlag{Name: "tick", Usage: "SWIM, plumtree and anti-entropy tick interval (0: defaults)"},
		},
		Action: func(c *cli.Context) error {
			log, err := newLogger(c.App.ErrWriter, c.String("log-format"), c.String("log-level"))
			if err != nil {
				return withCode(exitUsage, err)
			}
			cfg := agent.DefaultConfig()
			cfg.DataDir = c.String("data-dir")
			cfg.Listen = c.StringSlice("listen")
			cfg.Join = c.StringSlice("join")
			cfg.RPCListen = c.String("rpc-listen")
			cfg.Datastore = c.String("datastore")
			cfg.Log = log
			if d := c.Duration("tick"); d > 0 {
				cfg.Swim.TickInterval, cfg.Plumtree.TickInterval, cfg.AntiEntropy.TickInterval = d, d, d
			}
			if err := cfg.Validate(); err != nil {
				return withCode(exitUsage, err)
			}
			metrics := prometheus.NewRegistry()
			cfg.Metrics = metrics
			a, err := agent.New(cfg)
			if err != nil {
				return err
			}
			out := c.App.Writer
			fmt.Fprintf(out, "peer ID: %s\n", a.ID())
			for _, addr := range a.Addrs() {
				fmt.Fprintln(out, addr)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			srv, err := rpc.Listen(cfg.RPCListen, cfg.DataDir, version, a, log, metrics)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "rpc: http://%s/\n", srv.Addr())
			go srv.Serve()
			defer srv.Close()
			return a.Run(ctx)
		},
	}
}

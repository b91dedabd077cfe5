package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hearsay-mesh/hearsay/bench"
	"github.com/hearsay-mesh/hearsay/crdt/text/trace"
	"github.com/hearsay-mesh/hearsay/sim/exp"
	"github.com/urfave/cli/v2"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "benchmarks on real hosts and real data, beside a peer implementation",
		Subcommands: []*cli.Command{
			benchBroadcastCommand(),
			benchTextCommand(),
			benchSwimCommand(),
			benchPauseCommand(),
		},
	}
}

func benchBroadcastCommand() *cli.Command {
	d := bench.DefaultBroadcastConfig()
	return &cli.Command{
		Name:  "broadcast",
		Usage: "plumtree against GossipSub on real libp2p hosts on 127.0.0.1",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "nodes", Value: d.Nodes, Usage: "hosts per protocol"},
			&cli.StringFlag{Name: "protocol", Value: strings.Join(d.Protocols, ","), Usage: "comma-separated: plumtree, gossipsub"},
			&cli.IntFlag{Name: "messages", Value: d.Messages, Usage: "measured messages (M)"},
			&cli.IntFlag{Name: "warmup", Value: d.Warmup, Usage: "messages sent first and not measured"},
			&cli.IntFlag{Name: "size", Value: d.Size, Usage: "payload bytes (S)"},
			&cli.Float64Flag{Name: "rate", Value: d.Rate, Usage: "messages per second (R)"},
			&cli.IntFlag{Name: "dial", Value: d.Dial, Usage: "GossipSub: random peers each host dials"},
			&cli.DurationFlag{Name: "settle", Value: d.Settle, Usage: "wait for stragglers after the last send"},
			&cli.IntFlag{Name: "plumtree-optimization", Value: d.Plumtree.OptimizationThreshold, Usage: "plumtree: tree optimisation threshold in hops (0 = off)"},
			&cli.IntFlag{Name: "plumtree-optimization-confirm", Value: d.Plumtree.OptimizationConfirm, Usage: "plumtree: consecutive shorter announcements before a parent swap"},
			&cli.BoolFlag{Name: "plumtree-per-origin", Value: d.Plumtree.PerOriginTrees, Usage: "plumtree: a tree per sender instead of one shared tree"},
			&cli.DurationFlag{Name: "plumtree-initial-rtt", Value: d.Plumtree.InitialRTT, Usage: "plumtree: round-trip time assumed for a peer before one is measured"},
			&cli.DurationFlag{Name: "plumtree-announce-recent", Value: d.Plumtree.AnnounceRecent, Usage: "plumtree: tell a new neighbour of the messages of this last span (0 = off)"},
			&cli.DurationFlag{Name: "plumtree-catch-up", Value: d.Plumtree.CatchUpSpan, Usage: "plumtree: MaxTreeLag after a neighbour came up, tell it of the messages of this span before (0 = off)"},
			&cli.IntFlag{Name: "plumtree-cache", Value: d.Plumtree.CacheSize, Usage: "plumtree: received messages kept (payload included) per node"},
			&cli.DurationFlag{Name: "plumtree-max-tree-lag", Value: d.Plumtree.MaxTreeLag, Usage: "plumtree: longest first wait for the tree after an IHAVE"},
			&cli.DurationFlag{Name: "overlay-full", Value: d.OverlayFull, Usage: "plumtree: before the first message, wait up to this long for every node's active view to be full (0 = start once the overlay is connected)"},
			&cli.BoolFlag{Name: "fixed-ticks", Usage: "tick SWIM and anti-entropy every TickInterval instead of at their deadlines (comparison)"},
			&cli.BoolFlag{Name: "closed-loop", Usage: "publish each measured message after the last one's Publish returned, stamped when sent (before 2026-12-08); default: on a fixed schedule, stamped with it, so a busy sender's wait counts in the latency"},
			&cli.StringFlag{Name: "cpuprofile", Usage: "write a CPU profile of the whole run (all hosts) to `FILE`"},
			&cli.StringFlag{Name: "agent-log-level", Usage: "write the hosts' agent logs at this level (debug, info, warn, error) to stderr; off by default"},
			seedFlag(), csvFlag(), quietFlag(),
		},
		Action: func(c *cli.Context) error {
			cfg := bench.DefaultBroadcastConfig()
			cfg.Plumtree.OptimizationThreshold = c.Int("plumtree-optimization")
			cfg.Plumtree.OptimizationConfirm = c.Int("plumtree-optimization-confirm")
			cfg.Plumtree.PerOriginTrees = c.Bool("plumtree-per-origin")
			cfg.Plumtree.MaxTreeLag = c.Duration("plumtree-max-tree-lag")
			cfg.Plumtree.InitialRTT = c.Duration("plumtree-initial-rtt")
			cfg.Plumtree.CacheSize = c.Int("plumtree-cache")
			cfg.Plumtree.AnnounceRecent = c.Duration("plumtree-announce-recent")
			cfg.Plumtree.CatchUpSpan = c.Duration("plumtree-catch-up")
			cfg.FixedTicks = c.Bool("fixed-ticks")
			cfg.ClosedLoop = c.Bool("closed-loop")
			cfg.OverlayFull = c.Duration("overlay-full")
			cfg.Nodes = c.Int("nodes")
			cfg.Protocols = strings.Split(c.String("protocol"), ",")
			cfg.Messages = c.Int("messages")
			cfg.Warmup = c.Int("warmup")
			cfg.Size = c.Int("size")
			cfg.Rate = c.Float64("rate")
			cfg.Dial = c.Int("dial")
			cfg.Settle = c.Duration("settle")
			cfg.Seed = c.Uint64("seed")
			if lv := c.String("agent-log-level"); lv != "" {
				log, err := newLogger(c.App.ErrWriter, "text", lv)
				if err != nil {
					return withCode(exitUsage, fmt.Errorf("--agent-log-level %q: want debug, info, warn or error", lv))
				}
				cfg.Log = log
			}
			if err := cfg.Validate(); err != nil {
				return withCode(exitUsage, err)
			}
			return withCPUProfile(c.String("cpuprofile"), func() error {
				return runExperiment(c, func(p exp.Progress) ([]*exp.Table, error) {
					// Ctrl-C or SIGTERM ends the run through its context, so
					// the hosts close and the temporary directory goes.
					ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
					defer stop()
					return bench.Broadcast(ctx, cfg, p)
				})
			})
		},
	}
}

func benchTextCommand() *cli.Command {
	return &cli.Command{
		Name:  "text",
		Usage: "replay an editing trace (.json.gz) through the text CRDT",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "trace", Required: true, Usage: "trace `FILE` (e.g. automerge-paper.json.gz)"},
		},
		Action: func(c *cli.Context) error {
			start := time.Now()
			if _, err := trace.BenchTrace(c.String("trace"), c.App.Writer); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "wall time %.1fs\n", time.Since(start).Seconds())
			return nil
		},
	}
}

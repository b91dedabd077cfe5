package main

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/hearsay-mesh/hearsay/bench"
	"github.com/hearsay-mesh/hearsay/sim/exp"
	"github.com/urfave/cli/v2"
)

func benchSwimCommand() *cli.Command {
	d := bench.DefaultSwimConfig()
	return &cli.Command{
		Name:        "swim",
		Usage:       "SWIM on real agents on 127.0.0.1 beside hashicorp/memberlist (built from bench/memberlist with go)",
		Subcommands: []*cli.Command{benchSwimMemberCommand()},
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "nodes", Value: joinInts(d.Nodes), Usage: "comma-separated cluster sizes"},
			&cli.StringFlag{Name: "impl", Value: strings.Join(d.Impls, ","), Usage: "comma-separated: hearsay, memberlist"},
			&cli.IntFlag{Name: "crashes", Value: d.Crashes, Usage: "members crashed one at a time"},
			&cli.IntFlag{Name: "meta-trials", Value: d.MetaTrials, Usage: "metadata updates"},
			&cli.DurationFlag{Name: "quiet-window", Value: d.Quiet, Usage: "window over which quiet bandwidth is counted"},
			&cli.DurationFlag{Name: "settle", Value: d.Settle, Usage: "wait after formation before measuring"},
			&cli.DurationFlag{Name: "form-timeout", Value: d.FormTimeout, Usage: "bound on formation"},
			&cli.DurationFlag{Name: "detect-timeout", Value: d.DetectTimeout, Usage: "bound on one crash's detection"},
			&cli.DurationFlag{Name: "meta-timeout", Value: d.MetaTimeout, Usage: "bound on one metadata update"},
			&cli.StringFlag{Name: "memberlist-dir", Usage: "the bench/memberlist module (default: found from the working directory)"},
			&cli.DurationFlag{Name: "launch-every", Usage: "with --procs, launch members 1..N-1 one every this long instead of all at once"},
			&cli.DurationFlag{Name: "member-tick", Usage: "with --procs, an experiment: hearsay members with this SWIM, plumtree and anti-entropy tick interval (hidden `bench swim member` command instead of `agent`)"},
			&cli.IntFlag{Name: "member-gomaxprocs", Usage: "with --procs, GOMAXPROCS in every member process of both implementations (0: each one's default: hearsay 1, memberlist all cores)"},
			&cli.BoolFlag{Name: "join-after-up", Usage: "with --procs, start all members without a join, then have them join member 0 at one instant; formation is timed from the joins, without the processes' start-up"},
			&cli.StringFlag{Name: "keep-logs", Usage: "with --procs, keep each hearsay member's data directory and log (stderr.log) under `DIR`/hearsay-N"},
			&cli.BoolFlag{Name: "procs", Usage: "one OS process per member: `hearsay agent` processes and memberlist-bench -member processes, crashes by SIGKILL"},
			seedFlag(), csvFlag(), quietFlag(),
		},
		Action: func(c *cli.Context) error {
			cfg := bench.DefaultSwimConfig()
			nodes, err := parseInts(c.String("nodes"))
			if err != nil {
				return withCode(exitUsage, fmt.Errorf("--nodes: %w", err))
			}
			cfg.Nodes = nodes
			cfg.Impls = strings.Split(c.String("impl"), ",")
			cfg.Crashes = c.Int("crashes")
			cfg.MetaTrials = c.Int("meta-trials")
			cfg.Quiet = c.Duration("quiet-window")
			cfg.Settle = c.Duration("settle")
			cfg.FormTimeout = c.Duration("form-timeout")
			cfg.DetectTimeout = c.Duration("detect-timeout")
			cfg.MetaTimeout = c.Duration("meta-timeout")
			cfg.MemberlistDir = c.String("memberlist-dir")
			cfg.Seed = c.Uint64("seed")
			cfg.Procs = c.Bool("procs")
			cfg.MemberTick = c.Duration("member-tick")
			cfg.LaunchEvery = c.Duration("launch-every")
			cfg.KeepDir = c.String("keep-logs")
			cfg.JoinAfterUp = c.Bool("join-after-up")
			cfg.MemberGOMAXPROCS = c.Int("member-gomaxprocs")
			if cfg.Procs {
				if cfg.HearsayBin, err = os.Executable(); err != nil {
					return err
				}
			}
			if err := cfg.Validate(); err != nil {
				return withCode(exitUsage, err)
			}
			// ^C or SIGTERM ends the run cleanly: member processes (in
			// their own process groups) are killed.
			ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runExperiment(c, func(p exp.Progress) ([]*exp.Table, error) {
				return bench.Swim(ctx, cfg, p)
			})
		},
	}
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

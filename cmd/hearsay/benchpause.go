package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hearsay-mesh/hearsay/bench"
	"github.com/hearsay-mesh/hearsay/sim/exp"
	"github.com/urfave/cli/v2"
)

func benchPauseCommand() *cli.Command {
	d := bench.DefaultPauseConfig()
	return &cli.Command{
		Name:  "pause",
		Usage: "false positives: member processes on 127.0.0.1, one stopped with SIGSTOP now and then, hearsay beside memberlist",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "nodes", Value: d.Nodes, Usage: "member processes"},
			&cli.StringFlag{Name: "pause", Value: joinDurations(d.Pauses), Usage: "comma-separated pause lengths; several make a sweep (one run each)"},
			&cli.DurationFlag{Name: "every", Value: d.Every, Usage: "one pause starts every this long"},
			&cli.DurationFlag{Name: "duration", Value: d.Duration, Usage: "length of the paused phase of each run"},
			&cli.StringFlag{Name: "impl", Value: strings.Join(d.Impls, ","), Usage: "comma-separated: hearsay, memberlist"},
			&cli.DurationFlag{Name: "settle", Value: d.Settle, Usage: "wait after formation before the first pause"},
			&cli.DurationFlag{Name: "form-timeout", Value: d.FormTimeout, Usage: "bound on formation"},
			&cli.DurationFlag{Name: "recover", Value: d.Recover, Usage: "bound on every view being alive again after the last pause"},
			&cli.DurationFlag{Name: "poll", Value: d.Poll, Usage: "how often each hearsay agent's counters are read"},
			&cli.StringFlag{Name: "memberlist-dir", Usage: "the bench/memberlist module (default: found from the working directory)"},
			csvFlag(), quietFlag(),
		},
		Action: func(c *cli.Context) error {
			cfg := bench.DefaultPauseConfig()
			var err error
			if cfg.Pauses, err = parseDurations(c.String("pause")); err != nil {
				return withCode(exitUsage, fmt.Errorf("--pause: %w", err))
			}
			cfg.Nodes = c.Int("nodes")
			cfg.Every = c.Duration("every")
			cfg.Duration = c.Duration("duration")
			cfg.Impls = strings.Split(c.String("impl"), ",")
			cfg.Settle = c.Duration("settle")
			cfg.FormTimeout = c.Duration("form-timeout")
			cfg.Recover = c.Duration("recover")
			cfg.Poll = c.Duration("poll")
			cfg.MemberlistDir = c.String("memberlist-dir")
			if cfg.HearsayBin, err = os.Executable(); err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return withCode(exitUsage, err)
			}
			// ^C or SIGTERM ends the run cleanly: the member processes
			// (in their own process groups) are resumed and killed.
			ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runExperiment(c, func(p exp.Progress) ([]*exp.Table, error) {
				return bench.Pause(ctx, cfg, p)
			})
		},
	}
}

func joinDurations(ds []time.Duration) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.String()
	}
	return strings.Join(s, ",")
}

func parseDurations(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := time.ParseDuration(part)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/hearsay-mesh/hearsay/agent"
	"github.com/hearsay-mesh/hearsay/rpc"
	"github.com/urfave/cli/v2"
)

func formatFlag() *cli.StringFlag {
	return &cli.StringFlag{Name: "format", Usage: "table or json", Value: "table", EnvVars: []string{"HEARSAY_FORMAT"}}
}

// withClient dials the local agent and runs f with a bounded context.
func withClient(c *cli.Context, f func(ctx context.Context, cl *rpc.Client) error) error {
	switch c.String("format") {
	case "table", "json":
	default:
		return withCode(exitUsage, fmt.Errorf("--format %q: want table or json", c.String("format")))
	}
	cl, err := rpc.Dial(c.String("data-dir"))
	if err != nil {
		return withCode(exitNoAgent, err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(c.Context, 10*time.Second)
	defer cancel()
	if err := f(ctx, cl); err != nil {
		var ce codedError
		if errors.As(err, &ce) {
			return err
		}
		if noAgent(err) {
			return withCode(exitNoAgent, fmt.Errorf("no agent running with --data-dir %s: %w", c.String("data-dir"), err))
		}
		return withCode(exitRPCFailed, err)
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func peersCommand() *cli.Command {
	return &cli.Command{
		Name:  "peers",
		Usage: "show the local agent's active and passive views",
		Flags: []cli.Flag{dataDirFlag(), formatFlag()},
		Action: func(c *cli.Context) error {
			return withClient(c, func(ctx context.Context, cl *rpc.Client) error {
				p, err := cl.Peers(ctx)
				if err != nil {
					return err
				}
				if c.String("format") == "json" {
					return printJSON(c.App.Writer, p)
				}
				tw := tabwriter.NewWriter(c.App.Writer, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "VIEW\tPEER\tADDRS")
				for _, x := range p.Active {
					fmt.Fprintf(tw, "active\t%s\t%v\n", x.ID, x.Addrs)
				}
				for _, x := range p.Passive {
					fmt.Fprintf(tw, "passive\t%s\t%v\n", x.ID, x.Addrs)
				}
				return tw.Flush()
			})
		},
	}
}

func infoCommand() *cli.Command {
	return &cli.Command{
		Name:  "info",
		Usage: "show the local agent's identity and addresses",
		Flags: []cli.Flag{dataDirFlag(), formatFlag()},
		Action: func(c *cli.Context) error {
			return withClient(c, func(ctx context.Context, cl *rpc.Client) error {
				info, err := cl.Info(ctx)
				if err != nil {
					return err
				}
				if c.String("format") == "json" {
					return printJSON(c.App.Writer, info)
				}
				fmt.Fprintf(c.App.Writer, "peer ID: %s\nversion: %s\nuptime:  %.0fs\n", info.ID, info.Version, info.Uptime)
				for _, a := range info.Addrs {
					fmt.Fprintln(c.App.Writer, a)
				}
				return nil
			})
		},
	}
}

func membersCommand() *cli.Command {
	return &cli.Command{
		Name:  "members",
		Usage: "show the cluster's members as the local agent's failure detector sees them",
		Flags: []cli.Flag{dataDirFlag(), formatFlag()},
		Action: func(c *cli.Context) error {
			return withClient(c, func(ctx context.Context, cl *rpc.Client) error {
				ms, err := cl.Members(ctx)
				if err != nil {
					return err
				}
				if c.String("format") == "json" {
					return printJSON(c.App.Writer, ms)
				}
				tw := tabwriter.NewWriter(c.App.Writer, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "PEER\tSTATE\tINCARNATION\tMETA")
				for _, m := range ms {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%v\n", m.ID, m.State, m.Incarnation, m.Meta)
				}
				return tw.Flush()
			})
		},
	}
}

func statsCommand() *cli.Command {
	return &cli.Command{
		Name:  "stats",
		Usage: "show the local agent's counters (the same as /metrics)",
		Flags: []cli.Flag{dataDirFlag(), formatFlag()},
		Action: func(c *cli.Context) error {
			return withClient(c, func(ctx context.Context, cl *rpc.Client) error {
				var s agent.Stats
				if err := cl.Call(ctx, "mesh_stats", nil, &s); err != nil {
					return err
				}
				if c.String("format") == "json" {
					return printJSON(c.App.Writer, s)
				}
				tw := tabwriter.NewWriter(c.App.Writer, 2, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "broadcast\t%s\n", s.Broadcast)
				fmt.Fprintf(tw, "delivered\t%d\n", s.Delivered)
				fmt.Fprintf(tw, "active / passive peers\t%d / %d\n", s.ActivePeers, s.PassivePeers)
				fmt.Fprintf(tw, "members alive\t%d\n", s.Members)
				fmt.Fprintf(tw, "keys\t%d\n", s.Keys)
				fmt.Fprintf(tw, "changes\t%d\n", s.ChangeSeq)
				fmt.Fprintf(tw, "anti-entropy syncs\t%d\n", s.Syncs)
				fmt.Fprintf(tw, "suspicions / deaths\t%d / %d\n", s.Swim.Suspicions, s.Swim.Deaths)
				fmt.Fprintf(tw, "duplicates / grafts / prunes\t%d / %d / %d\n", s.Plumtree.Duplicates, s.Plumtree.GraftsSent, s.Plumtree.PrunesSent)
				return tw.Flush()
			})
		},
	}
}

// noAgent reports whether err says nothing listens at the endpoint the
// data directory names: an agent that stopped leaves its rpc.addr and
// rpc.cookie behind, so Dial succeeds and the refusal comes with the call
// (the HTTP client's error reaches us as text inside a JSON-RPC error).
func noAgent(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(err.Error(), "connection refused")
}

package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/creachadair/jrpc2"
	"github.com/hearsay-mesh/hearsay/agent"
	"github.com/hearsay-mesh/hearsay/agent/store"
	"github.com/hearsay-mesh/hearsay/rpc"
	"github.com/urfave/cli/v2"
)

// exitNotFound: the key does not exist (get, text).
const exitNotFound = 5

// notFoundExit gives err the exit code exitNotFound when the agent answered
// that the key does not exist, and returns any other error as it is.
func notFoundExit(err error) error {
	var je *jrpc2.Error
	if errors.As(err, &je) && je.Code == rpc.CodeNotFound {
		return withCode(exitNotFound, err)
	}
	return err
}

// kvCommand builds a client subcommand that takes min to max positional
// arguments (max -1: no limit).
func kvCommand(name, usage, args string, min, max int, run func(ctx context.Context, c *cli.Context, cl *rpc.Client) error) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     usage,
		ArgsUsage: args,
		Flags:     []cli.Flag{dataDirFlag(), formatFlag()},
		Action: func(c *cli.Context) error {
			if c.NArg() < min || max >= 0 && c.NArg() > max {
				return withCode(exitUsage, fmt.Errorf("usage: %s %s", c.Command.HelpName, args))
			}
			return withClient(c, func(ctx context.Context, cl *rpc.Client) error { return run(ctx, c, cl) })
		},
	}
}

// showChange prints what a write did.
func showChange(c *cli.Context, ch store.Change) error {
	if c.String("format") == "json" {
		return printJSON(c.App.Writer, ch)
	}
	if ch.Value != nil {
		fmt.Fprintf(c.App.Writer, "%s = %s\n", ch.Key, render(*ch.Value))
	} else {
		fmt.Fprintf(c.App.Writer, "%s: %s\n", ch.Key, ch.Op)
	}
	return nil
}

func render(v store.Value) string {
	switch x := v.Data().(type) {
	case []string:
		return "[" + strings.Join(x, ", ") + "]"
	case string:
		return strconv.Quote(x)
	default:
		return fmt.Sprint(x)
	}
}

func call(ctx context.Context, c *cli.Context, cl *rpc.Client, method string, params any) error {
	var ch store.Change
	if err := cl.Call(ctx, method, params, &ch); err != nil {
		return err
	}
	return showChange(c, ch)
}

func kvCommands() []*cli.Command {
	return []*cli.Command{
		kvCommand("get", "read a key", "KEY", 1, 1, func(ctx context.Context, c *cli.Context, cl *rpc.Client) error {
			v, err := cl.Get(ctx, c.Args().First())
			if err != nil {
				return notFoundExit(err)
			}
			if c.String("format") == "json" {
				return printJSON(c.App.Writer, v)
			}
			fmt.Fprintf(c.App.Writer, "%s (%s)\n", render(v), v.Type)
			return nil
		}),
		kvCommand("put", "set a register", "KEY VALUE", 2, 2, func(ctx context.Context, c *cli.Context, cl *rpc.Client) error {
			v := c.Args().Get(1)
			return call(ctx, c, cl, "crdt_put", rpc.PutParams{Key: c.Args().First(), Value: &v})
		}),
		kvCommand("inc", "add to a counter (default 1)", "KEY [N]", 1, 2, func(ctx context.Context, c *cli.Context, cl *rpc.Client) error {
			return counter(ctx, c, cl, "crdt_inc")
		}),
		kvCommand("dec", "subtract from a counter (default 1)", "KEY [N]", 1, 2, func(ctx context.Context, c *cli.Context, cl *rpc.Client) error {
			return counter(ctx, c, cl, "crdt_dec")
		}),
		kvCommand("add", "add elements to a set", "KEY ELEM...", 2, -1, func(ctx context.Context, c *cli.Context, cl *rpc.Client) error {
			return call(ctx, c, cl, "crdt_add", rpc.SetParams{Key: c.Args().First(), Elements: c.Args().Tail()})
		}),
		kvCommand("rm", "remove elements from a set", "KEY ELEM...", 2, -1, func(ctx context.Context, c *cli.Context, cl *rpc.Client) error {
			return call(ctx, c, cl, "crdt_remove", rpc.SetParams{Key: c.Args().First(), Elements: c.Args().Tail()})
		}),
		kvCommand("del", "delete a key", "KEY", 1, 1, func(ctx context.Context, c *cli.Context, cl *rpc.Client) error {
			return call(ctx, c, cl, "crdt_del", rpc.KeyParams{Key: c.Args().First()})
		}),
		kvCommand("keys", "list keys (with a prefix)", "[PREFIX]", 0, 1, func(ctx context.Context, c *cli.Context, cl *rpc.Client) error {
			var all []string
			after := ""
			for {
				var res rpc.KeysResult
				if err := cl.Call(ctx, "crdt_keys", rpc.KeysParams{Prefix: c.Args().First(), After: after, Limit: 1000}, &res); err != nil {
					return err
				}
				all = append(all, res.Keys...)
				if res.Next == "" {
					break
				}
				after = res.Next
			}
			if c.String("format") == "json" {
				return printJSON(c.App.Writer, all)
			}
			for _, k := range all {
				fmt.Fprintln(c.App.Writer, k)
			}
			return nil
		}),
		kvCommand("join", "ask the local agent to join the mesh through ADDR", "ADDR", 1, 1, func(ctx context.Context, c *cli.Context, cl *rpc.Client) error {
			if err := cl.Join(ctx, c.Args().First()); err != nil {
				return err
			}
			fmt.Fprintln(c.App.Writer, "joining through", c.Args().First())
			return nil
		}),
		kvCommand("leave", "leave the mesh gracefully (the agent keeps running until stopped)", "", 0, 0, func(ctx context.Context, c *cli.Context, cl *rpc.Client) error {
			if err := cl.Call(ctx, "mesh_leave", nil, nil); err != nil {
				return err
			}
			fmt.Fprintln(c.App.Writer, "left the mesh")
			return nil
		}),
		textCommand(),
		watchCommand(),
	}
}

func counter(ctx context.Context, c *cli.Context, cl *rpc.Client, method string) error {
	by := int64(1)
	if c.NArg() > 1 {
		n, err := strconv.ParseInt(c.Args().Get(1), 10, 64)
		if err != nil || n <= 0 {
			return withCode(exitUsage, fmt.Errorf("N: %q is not a positive whole number", c.Args().Get(1)))
		}
		by = n
	}
	return call(ctx, c, cl, method, rpc.IncParams{Key: c.Args().First(), By: &by})
}

func watchCommand() *cli.Command {
	return &cli.Command{
		Name:  "watch",
		Usage: "stream changes to the keyspace (from --after, a change number)",
		Flags: []cli.Flag{dataDirFlag(), formatFlag(),
			&cli.Uint64Flag{Name: "after", Usage: "start after this change number (default: now)"},
			&cli.DurationFlag{Name: "poll", Value: 200 * time.Millisecond, Usage: "how often to ask the agent"},
		},
		Action: func(c *cli.Context) error {
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
			failed := func(err error) error {
				if noAgent(err) {
					return withCode(exitNoAgent, fmt.Errorf("no agent running with --data-dir %s: %w", c.String("data-dir"), err))
				}
				return withCode(exitRPCFailed, err)
			}
			after := c.Uint64("after")
			if !c.IsSet("after") {
				// From now: the newest change's number (crdt_changes'
				// seq is the last change it returned).
				var s agent.Stats
				if err := cl.Call(c.Context, "mesh_stats", nil, &s); err != nil {
					return failed(err)
				}
				after = s.ChangeSeq
			}
			tick := time.NewTicker(c.Duration("poll"))
			defer tick.Stop()
			tw := tabwriter.NewWriter(c.App.Writer, 2, 4, 2, ' ', 0)
			for {
				res, err := cl.Changes(c.Context, after, 1000)
				if err != nil {
					return failed(err)
				}
				for _, ch := range res.Changes {
					if c.String("format") == "json" {
						printJSON(c.App.Writer, ch)
						continue
					}
					val := ""
					if ch.Value != nil {
						val = render(*ch.Value)
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", ch.Seq, ch.Origin, ch.Op, ch.Key, val)
					after = ch.Seq
				}
				if len(res.Changes) > 0 {
					after = res.Changes[len(res.Changes)-1].Seq
				}
				tw.Flush()
				select {
				case <-c.Context.Done():
					return nil
				case <-tick.C:
				}
			}
		},
	}
}

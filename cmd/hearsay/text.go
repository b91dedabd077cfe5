package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/hearsay-mesh/hearsay/rpc"
	"github.com/urfave/cli/v2"
)

// textCommand edits and reads collaborative text keys (the text CRDT):
// positions count Unicode code points, as the RPC methods do.
func textCommand() *cli.Command {
	return &cli.Command{
		Name:  "text",
		Usage: "read and edit a collaborative text key",
		Subcommands: []*cli.Command{
			kvCommand("get", "print the text", "KEY", 1, 1, func(ctx context.Context, c *cli.Context, cl *rpc.Client) error {
				var s string
				err := cl.Call(ctx, "text_get", rpc.KeyParams{Key: c.Args().First()}, &s)
				if err != nil {
					return notFoundExit(err)
				}
				if c.String("format") == "json" {
					return printJSON(c.App.Writer, s)
				}
				fmt.Fprintln(c.App.Writer, s)
				return nil
			}),
			kvCommand("insert", "insert TEXT before code point POS (0: at the start)", "KEY POS TEXT", 3, 3, func(ctx context.Context, c *cli.Context, cl *rpc.Client) error {
				pos, err := textPos(c, 1, "POS")
				if err != nil {
					return err
				}
				s := c.Args().Get(2)
				return call(ctx, c, cl, "text_insert", rpc.TextInsertParams{Key: c.Args().First(), Pos: &pos, Text: &s})
			}),
			kvCommand("delete", "delete N code points from POS", "KEY POS N", 3, 3, func(ctx context.Context, c *cli.Context, cl *rpc.Client) error {
				pos, err := textPos(c, 1, "POS")
				if err != nil {
					return err
				}
				n, err := textPos(c, 2, "N")
				if err != nil {
					return err
				}
				return call(ctx, c, cl, "text_delete", rpc.TextDeleteParams{Key: c.Args().First(), Pos: &pos, N: &n})
			}),
		},
	}
}

// textPos parses argument i as a count of code points.
func textPos(c *cli.Context, i int, name string) (int, error) {
	n, err := strconv.Atoi(c.Args().Get(i))
	if err != nil || n < 0 {
		return 0, withCode(exitUsage, fmt.Errorf("%s: %q is not a whole number >= 0", name, c.Args().Get(i)))
	}
	return n, nil
}

// Command hearsay runs a hearsay agent, talks to a running one, and runs
// the simulator's experiments. See README.md and docs/.
package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	app := &cli.App{
		Name:                 "hearsay",
		Usage:                "a leaderless peer-to-peer gossip mesh agent",
		Version:              version,
		EnableBashCompletion: true,
		Commands: append([]*cli.Command{
			agentCommand(),
			peersCommand(),
			membersCommand(),
			statsCommand(),
			infoCommand(),
			simCommand(),
			benchCommand(),
			versionCommand(),
		}, kvCommands()...),
	}
	usageErrors(app.Commands)
	app.OnUsageError = onUsageError
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "hearsay:", err)
		os.Exit(exitCode(err))
	}
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version",
		Action: func(c *cli.Context) error {
			fmt.Fprintf(c.App.Writer, "hearsay %s\n", version)
			return nil
		},
	}
}

// onUsageError makes a flag the command does not know, or a flag value
// that does not parse, exit with exitUsage (2) as docs/usage.md says; urfave
// reports those as plain errors (exit 1).
func onUsageError(_ *cli.Context, err error, _ bool) error { return withCode(exitUsage, err) }

// usageErrors sets onUsageError on every command and subcommand.
func usageErrors(cmds []*cli.Command) {
	for _, c := range cmds {
		c.OnUsageError = onUsageError
		usageErrors(c.Subcommands)
	}
}

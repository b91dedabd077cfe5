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

package main

import (
	"fmt"
	"os"
	"runtime"

	"github.com/urfave/cli/v2"
)

// defaultMaxProcs is how many cores an agent's Go code runs on at once
// unless told otherwise. An agent is one event loop plus transport
// goroutines that mostly wait; with more than one P the Go runtime hands
// each wake-up between threads (a spinning thread, a futex wake, a
// context switch), which was a fifth of an idle agent's CPU, and under
// load every extra thread competes with the other processes on the host.
// With 1: 5.3 instead of 6.8 ms of CPU a second per idle agent (200 agents
// on two cores), and 200 agents joining through one seed formed in
// 34-44 s instead of 55-59 s, alternated (docs/swim-bench.md, "One core
// per agent"). A node that serves heavy RPC or sync load on a many-core
// machine can raise it with --max-procs (0: Go's default, the cores available).
const defaultMaxProcs = 1

func maxProcsFlag() *cli.IntFlag {
	return &cli.IntFlag{
		Name:    "max-procs",
		Usage:   "cores the agent's Go code may use at once (GOMAXPROCS; 0: the cores available). Without the flag, a GOMAXPROCS environment variable is obeyed",
		Value:   defaultMaxProcs,
		EnvVars: []string{"HEARSAY_MAX_PROCS"},
	}
}

// applyMaxProcs sets GOMAXPROCS from --max-procs. When the flag was not
// given (nor HEARSAY_MAX_PROCS, nor the config file) and the process has
// a GOMAXPROCS environment variable, the Go runtime's setting from it is
// kept: whoever set it asked for it.
func applyMaxProcs(c *cli.Context) error {
	n := c.Int("max-procs")
	if n < 0 {
		return fmt.Errorf("--max-procs %d: must be 0 (the cores available) or more", n)
	}
	if !c.IsSet("max-procs") && os.Getenv("GOMAXPROCS") != "" {
		return nil
	}
	if n == 0 {
		runtime.SetDefaultGOMAXPROCS() // the cores available, cgroup limits included
		return nil
	}
	runtime.GOMAXPROCS(n)
	return nil
}

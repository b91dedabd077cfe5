package main

import (
	"runtime"
	"testing"

	"github.com/urfave/cli/v2"
)

// runMaxProcs runs applyMaxProcs under a command with the agent's flag
// and returns GOMAXPROCS afterwards, restoring the test's own setting.
func runMaxProcs(t *testing.T, args ...string) (int, error) {
	t.Helper()
	before := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(before) })
	var err error
	app := &cli.App{Name: "t", Flags: []cli.Flag{maxProcsFlag()}, Action: func(c *cli.Context) error {
		err = applyMaxProcs(c)
		return nil
	}}
	if rerr := app.Run(append([]string{"t"}, args...)); rerr != nil {
		t.Fatal(rerr)
	}
	return runtime.GOMAXPROCS(0), err
}

func TestMaxProcs(t *testing.T) {
	t.Setenv("GOMAXPROCS", "")
	t.Setenv("HEARSAY_MAX_PROCS", "")
	runtime.GOMAXPROCS(3)
	if got, err := runMaxProcs(t); err != nil || got != defaultMaxProcs {
		t.Fatalf("default: GOMAXPROCS %d, %v; want %d", got, err, defaultMaxProcs)
	}
	if got, err := runMaxProcs(t, "--max-procs", "2"); err != nil || got != 2 {
		t.Fatalf("--max-procs 2: GOMAXPROCS %d, %v", got, err)
	}
	if got, err := runMaxProcs(t, "--max-procs", "0"); err != nil || got < 1 {
		t.Fatalf("--max-procs 0: GOMAXPROCS %d, %v", got, err)
	}
	before := runtime.GOMAXPROCS(0)
	if got, err := runMaxProcs(t, "--max-procs", "-1"); err == nil || got != before {
		t.Fatalf("--max-procs -1: GOMAXPROCS %d (was %d), err %v; want an error and no change", got, before, err)
	}
}

// A GOMAXPROCS environment variable is obeyed when the flag is not given,
// and the flag wins when it is.
func TestMaxProcsEnvironment(t *testing.T) {
	t.Setenv("HEARSAY_MAX_PROCS", "")
	t.Setenv("GOMAXPROCS", "3")
	runtime.GOMAXPROCS(3) // as the runtime would have read it at start
	if got, err := runMaxProcs(t); err != nil || got != 3 {
		t.Fatalf("GOMAXPROCS=3, no flag: GOMAXPROCS %d, %v; want 3", got, err)
	}
	if got, err := runMaxProcs(t, "--max-procs", "1"); err != nil || got != 1 {
		t.Fatalf("GOMAXPROCS=3, --max-procs 1: GOMAXPROCS %d, %v; want 1", got, err)
	}
}

package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hearsay-mesh/hearsay/sim/exp"
	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

func csvFlag() *cli.StringFlag {
	return &cli.StringFlag{Name: "csv", Usage: "also write the tables as CSV to `FILE`"}
}

func seedFlag() *cli.Uint64Flag {
	return &cli.Uint64Flag{Name: "seed", Usage: "seed of the run (same seed, same run)", Value: 1}
}

func quietFlag() *cli.BoolFlag {
	return &cli.BoolFlag{Name: "quiet", Usage: "no progress bar"}
}

// runExperiment runs f with a progress bar on stderr (when it is a
// terminal and --quiet is not set), prints the tables and writes the CSV.
func runExperiment(c *cli.Context, f func(exp.Progress) ([]*exp.Table, error)) error {
	var bar *progressbar.ProgressBar
	var progress exp.Progress
	if !c.Bool("quiet") && term.IsTerminal(int(os.Stderr.Fd())) {
		progress = func(done, total int, what string) {
			if bar == nil || bar.GetMax() != total {
				if bar != nil {
					bar.Finish()
				}
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(os.Stderr),
					progressbar.OptionSetWidth(30), progressbar.OptionShowCount(),
					progressbar.OptionClearOnFinish())
			}
			bar.Describe(what)
			bar.Set(done)
		}
	}
	start := time.Now()
	tables, err := f(progress)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	out := c.App.Writer
	for _, t := range tables {
		if err := t.Print(out); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "\nwall time %.1fs\n", time.Since(start).Seconds())
	if path := c.String("csv"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		for i, t := range tables {
			if err := t.WriteCSV(f, i == 0); err != nil {
				return err
			}
		}
		return f.Close()
	}
	return nil
}

// parseFloats parses "0.1,0.2,0.5".
func parseFloats(s string) ([]float64, error) {
	var out []float64
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		v, err := strconv.ParseFloat(part, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", part)
		}
		out = append(out, v)
	}
	return out, nil
}

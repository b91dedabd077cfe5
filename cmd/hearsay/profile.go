package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// withCPUProfile runs fn while writing a CPU profile to path (nothing if
// path is empty), so a bench run shows where its CPU went:
// `go tool pprof -top <hearsay binary> path`.
func withCPUProfile(path string, fn func() error) (err error) {
	if path == "" {
		return fn()
	}
	f, err := os.Create(path)
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("cpu profile: %w", err))
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("cpu profile: %w", err)
	}
	defer func() {
		pprof.StopCPUProfile()
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("cpu profile: %w", cerr)
		}
	}()
	return fn()
}

package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

// Exit codes, so scripts can tell failures apart.
const (
	exitError     = 1 // anything else
	exitUsage     = 2 // bad flags or arguments
	exitNoAgent   = 3 // no agent answered on the local endpoint
	exitRPCFailed = 4 // the agent answered with an error
)

type codedError struct {
	code int
	err  error
}

func (e codedError) Error() string { return e.err.Error() }
func (e codedError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return codedError{code: code, err: err}
}

func exitCode(err error) int {
	var ce codedError
	if errors.As(err, &ce) {
		return ce.code
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return exitError
}

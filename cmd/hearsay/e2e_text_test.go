package main

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// runCLI runs the hearsay binary against the agent in dataDir and returns
// its standard output and exit code.
func runCLI(t *testing.T, bin, dataDir string, args ...string) (string, int) {
	t.Helper()
	path := 1 // the (sub)command's words: its flags come right after them
	if args[0] == "text" {
		path = 2
	}
	full := append(append(append([]string{}, args[:path]...), "--data-dir", dataDir), args[path:]...)
	out, err := exec.Command(bin, full...).Output()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	case err != nil:
		t.Fatalf("hearsay %v: %v", args, err)
	}
	return string(out), 0
}

// The text subcommands edit a text key by code points on a running agent,
// and refuse bad positions and keys of another type with the documented
// exit codes.
func TestTextCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an agent process")
	}
	bin := hearsayBinary(t)
	dir := filepath.Join(t.TempDir(), "a")
	startAgent(t, bin, dir)
	steps := []struct {
		args []string
		code int
	}{
		{[]string{"text", "insert", "doc", "0", "héllo"}, 0},
		{[]string{"text", "insert", "doc", "5", " wörld"}, 0},
		{[]string{"text", "delete", "doc", "0", "1"}, 0},
		{[]string{"text", "insert", "doc", "0", "H"}, 0},
		{[]string{"text", "insert", "doc", "x", "H"}, exitUsage},
		{[]string{"text", "delete", "doc", "0", "-1"}, exitUsage},
		{[]string{"text", "delete", "doc", "0"}, exitUsage},
		{[]string{"put", "reg", "v"}, 0},
		{[]string{"text", "insert", "reg", "0", "x"}, exitRPCFailed},
		{[]string{"text", "get", "nothing"}, exitNotFound},
	}
	for _, s := range steps {
		if out, code := runCLI(t, bin, dir, s.args...); code != s.code {
			t.Fatalf("hearsay %s: exit %d, want %d (output %q)", strings.Join(s.args, " "), code, s.code, out)
		}
	}
	if out, code := runCLI(t, bin, dir, "text", "get", "doc"); code != 0 || out != "Héllo wörld\n" {
		t.Fatalf("text get doc = %q (exit %d), want %q", out, code, "Héllo wörld\n")
	}
	if out, code := runCLI(t, bin, dir, "text", "get", "--format", "json", "doc"); code != 0 || strings.TrimSpace(out) != `"Héllo wörld"` {
		t.Fatalf("text get --format json doc = %q (exit %d)", out, code)
	}
}

// A client command against an agent that has stopped exits 3 ("no agent
// running"), as docs/usage.md says: the stopped agent's rpc.addr and
// rpc.cookie stay behind, and the refused connection came back as an RPC
// error (exit 4).
func TestClientExitsNoAgentAfterTheAgentStopped(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an agent process")
	}
	bin := hearsayBinary(t)
	dir := filepath.Join(t.TempDir(), "a")
	p := startAgent(t, bin, dir)
	if _, code := runCLI(t, bin, dir, "put", "k", "v"); code != 0 {
		t.Fatalf("put: exit %d", code)
	}
	p.kill(syscall.SIGTERM)
	<-p.exited
	if out, code := runCLI(t, bin, dir, "get", "k"); code != exitNoAgent {
		t.Fatalf("get after the agent stopped: exit %d (%q), want %d", code, out, exitNoAgent)
	}
}

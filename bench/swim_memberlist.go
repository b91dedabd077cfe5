package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// memberlistRunner runs the memberlist side: a program in its own Go
// module (bench/memberlist), so that memberlist is not a dependency of
// hearsay. It is built once per `hearsay bench swim` into a temporary
// directory and run once per cluster size.
type memberlistRunner struct {
	tmp string
	bin string
}

// findMemberlistDir looks for bench/memberlist/go.mod from the working
// directory upwards.
func findMemberlistDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		cand := filepath.Join(dir, "bench", "memberlist")
		if _, err := os.Stat(filepath.Join(cand, "go.mod")); err == nil {
			return cand, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("bench: bench/memberlist/go.mod not found from the working directory upwards; run from the hearsay repository or set --memberlist-dir")
		}
		dir = up
	}
}

func buildMemberlist(ctx context.Context, dir string) (*memberlistRunner, error) {
	if dir == "" {
		var err error
		if dir, err = findMemberlistDir(); err != nil {
			return nil, err
		}
	}
	tmp, err := os.MkdirTemp("", "hearsay-bench-memberlist-")
	if err != nil {
		return nil, err
	}
	r := &memberlistRunner{tmp: tmp, bin: filepath.Join(tmp, "memberlist-bench")}
	bctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(bctx, "go", "build", "-o", r.bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		r.close()
		return nil, fmt.Errorf("bench: building %s: %w\n%s", dir, err, out)
	}
	return r, nil
}

// close removes the built binary; a nil runner has nothing to remove.
func (r *memberlistRunner) close() {
	if r != nil {
		os.RemoveAll(r.tmp)
	}
}

func (r *memberlistRunner) run(ctx context.Context, cfg SwimConfig, n int) (*swimResult, error) {
	bound := cfg.FormTimeout + cfg.Settle + cfg.Quiet + time.Duration(cfg.MetaTrials)*cfg.MetaTimeout +
		time.Duration(cfg.Crashes)*cfg.DetectTimeout + 2*time.Minute
	rctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	args := []string{
		"-nodes", strconv.Itoa(n),
		"-crashes", strconv.Itoa(cfg.Crashes),
		"-meta-trials", strconv.Itoa(cfg.MetaTrials),
		"-quiet", cfg.Quiet.String(),
		"-settle", cfg.Settle.String(),
		"-form-timeout", cfg.FormTimeout.String(),
		"-detect-timeout", cfg.DetectTimeout.String(),
		"-meta-timeout", cfg.MetaTimeout.String(),
		"-probe-interval", cfg.ProbeInterval.String(),
		"-probe-timeout", cfg.ProbeTimeout.String(),
		"-seed", strconv.FormatUint(cfg.Seed, 10),
	}
	cmd := exec.CommandContext(rctx, r.bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w\n%s", r.bin, strings.Join(args, " "), err, stderr.String())
	}
	var res swimResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("memberlist output: %w: %q", err, stdout.String())
	}
	return &res, nil
}

package trace

import (
	"os"
	"syscall"
	"testing"
	"time"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestCPUTime reports process CPU time per replay, a figure less disturbed
// than wall time when the machine is shared. Set HEARSAY_CPUTIME=1 to run.
func TestCPUTime(t *testing.T) {
	if os.Getenv("HEARSAY_CPUTIME") == "" {
		t.Skip("set HEARSAY_CPUTIME=1")
	}
	tr := load(t, "automerge-paper.json.gz")
	const n = 10
	_, deltas, err := ReplaySequential(tr, true)
	if err != nil {
		t.Fatal(err)
	}
	c0, w0 := cpuTime(), time.Now()
	for range n {
		if _, _, err := ReplaySequential(tr, false); err != nil {
			t.Fatal(err)
		}
	}
	c1, w1 := cpuTime(), time.Now()
	for range n {
		if _, err := ApplyRemote(deltas); err != nil {
			t.Fatal(err)
		}
	}
	c2, w2 := cpuTime(), time.Now()
	for range n {
		if _, err := ReplayReusing(tr, nil); err != nil {
			t.Fatal(err)
		}
	}
	c3, w3 := cpuTime(), time.Now()
	t.Logf("local (Insert/Delete):         cpu %v wall %v per replay", (c1-c0)/n, w1.Sub(w0)/n)
	t.Logf("local (AppendInsert/-Delete):  cpu %v wall %v per replay", (c3-c2)/n, w3.Sub(w2)/n)
	t.Logf("remote:                        cpu %v wall %v per replay", (c2-c1)/n, w2.Sub(w1)/n)
}

//go:build unix

package exp

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user+system) the process has used so far,
// for the experiment's speed note (the wall time depends on what else the
// machine runs).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

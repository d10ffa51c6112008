//go:build unix

package testenv

import (
	"syscall"
	"time"
)

// CPUTime returns the user + system CPU time this process has used. On a
// machine shared with other work, CPU time per operation is steadier than
// wall time; the benchmarks report both.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

//go:build !linux

package loadgen

import "time"

// preciseSleep is time.Sleep where nanosleep(2) is not available through
// package syscall; open-loop schedules are then as precise as Go's timers.
func preciseSleep(d time.Duration) { time.Sleep(d) }

package loadgen

import (
	"syscall"
	"time"
)

// preciseSleep sleeps for d with nanosleep(2) on the dispatcher's locked
// thread: the Go timer (time.Sleep) wakes up to about a millisecond late
// under load, which would bunch an open-loop schedule into bursts.
func preciseSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	syscall.Nanosleep(&ts, nil)
}

//go:build unix

package pipeline

import (
	"runtime"
	"syscall"
)

// peakRSSMB returns the peak resident set size of this process so far, in
// MiB (getrusage ru_maxrss: KiB on Linux and the BSDs, bytes on macOS).
func peakRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return float64(ru.Maxrss) / (1 << 20)
	}
	return float64(ru.Maxrss) / 1024
}

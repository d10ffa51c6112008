//go:build !unix

package testenv

import "time"

// CPUTime is 0 where getrusage is not available: benchmarks then report
// wall time only.
func CPUTime() time.Duration { return 0 }

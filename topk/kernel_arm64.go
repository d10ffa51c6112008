//go:build !purego

package topk

import "golang.org/x/sys/cpu"

//go:generate env GOOS= GOARCH= go run kernel_arm64_gen.go -o kernel_arm64.s

// Implemented in kernel_arm64.s (generated): scoring every user against
// every item is all of top-k's arithmetic, and Go's compiler does not
// vectorize it, hence assembly. Preconditions (checked by the wrapper):
// rank >= 1 and the buffers hold the sizes documented on kernel.

//go:noescape
func kernNEON(a, b, c, thr *float32, rank int) uint32

// neon scores 8 users × 12 items with 24 accumulators of 4 lanes (FMLA by
// element, so the 8 user factors of a rank step sit in two registers
// instead of eight broadcasts); one mask bit per 4 lanes.
var neon = &kernel{name: "neon", mr: 8, nr: 12, g: 4, tile: func(a, b, c, thr []float32, rank int) uint32 {
	if rank < 1 {
		panic("topk: kernel rank must be positive")
	}
	_, _, _, _ = a[rank*8-1], b[rank*12-1], c[8*12-1], thr[7]
	return kernNEON(&a[0], &b[0], &c[0], &thr[0], rank)
}}

func init() {
	// ASIMD is part of every ARMv8-A application core; x/sys/cpu reports
	// it from the OS (HWCAP on Linux).
	if cpu.ARM64.HasASIMD {
		kernels = []*kernel{neon, generic}
	}
}

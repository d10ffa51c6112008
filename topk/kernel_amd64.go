//go:build !purego

package topk

import "golang.org/x/sys/cpu"

// Implemented in kernel_amd64.s. Preconditions (checked by the wrappers):
// rank >= 1 and the buffers hold the sizes documented on kernel.

//go:noescape
func kernAVX512(a, b, c, thr *float32, rank int) uint32

//go:noescape
func kernAVX2(a, b, c, thr *float32, rank int) uint32

// avx512 scores 12 users × 32 items with 24 zmm accumulators; one mask bit
// per 16 lanes.
var avx512 = &kernel{name: "avx512", mr: 12, nr: 32, g: 16, tile: func(a, b, c, thr []float32, rank int) uint32 {
	_, _, _, _ = a[rank*12-1], b[rank*32-1], c[12*32-1], thr[11]
	return kernAVX512(&a[0], &b[0], &c[0], &thr[0], rank)
}}

// avx2 scores 6 users × 16 items with 12 ymm accumulators; one mask bit per
// 8 lanes.
var avx2 = &kernel{name: "avx2", mr: 6, nr: 16, g: 8, tile: func(a, b, c, thr []float32, rank int) uint32 {
	_, _, _, _ = a[rank*6-1], b[rank*16-1], c[6*16-1], thr[5]
	return kernAVX2(&a[0], &b[0], &c[0], &thr[0], rank)
}}

func init() {
	// x/sys/cpu sets these only when the OS saves the wider registers.
	var ks []*kernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, avx512)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, avx2)
	}
	kernels = append(ks, generic)
}

//go:build !purego

package als

import "golang.org/x/sys/cpu"

// The AVX-512 tier (kernels_avx512_amd64.s), supported when the CPU and the
// OS support AVX-512F. Each kernel is wrapped to check its slice lengths
// first (checked): the assembly does not.

//go:noescape
func gramLowerAVX512(c, b []float64, m, s int, zero bool)

//go:noescape
func gatherRowsAVX512(dst []float64, src []float32, s int, idx []int32, scale, tgt, rhs []float64, pf []int32)

//go:noescape
func cholBatchAVX512(a, inv []float64, k int)

//go:noescape
func solveBatchAVX512(a, inv, b []float64, k int)

//go:noescape
func copyRowsAVX512(dst, src []float32, s int, idx, pf []int32)

//go:noescape
func cgPassAVX512(b []float32, m, s int, p, w, a, out1, out2 []float32)

//go:noescape
func cgGatherAVX512(dst, src []float32, s int, idx, pf []int32, p, w, a, out1, out2 []float32)

//go:noescape
func dotRowsAVX512(q, b []float32, m, s int, p []float32)

//go:noescape
func axpyRowsAVX512(out, b []float32, m, s int, coef []float32)

var avx512Kernels = checked(kernels{
	name:       "avx512",
	gatherRows: gatherRowsAVX512,
	gramLower:  gramLowerAVX512,
	cholBatch:  cholBatchAVX512,
	solveBatch: solveBatchAVX512,
	copyRows:   copyRowsAVX512,
	dotRows:    dotRowsAVX512,
	axpyRows:   axpyRowsAVX512,
	cgPass: func(b []float32, m, s int, p, w, a, out1, out2, q []float32) {
		checkCG("cgPass", b, m, s, p, w, a, out1, out2, nil)
		if s > 64 {
			cgPassRows(dotRowsAVX512, axpyRowsAVX512, b, m, s, p, w, a, out1, out2, q)
			return
		}
		cgPassAVX512(b, m, s, p, w, a, out1, out2)
	},
	cgGather: func(dst, src []float32, s int, idx, pf []int32, p, w, a, out1, out2, q []float32) {
		m := len(idx)
		checkCopy("cgGather", dst, src, s, idx, pf)
		checkCG("cgGather", dst, m, s, p, w, a, out1, out2, nil)
		if s > 64 {
			copyRowsAVX512(dst, src, s, idx, pf)
			cgPassRows(dotRowsAVX512, axpyRowsAVX512, dst, m, s, p, w, a, out1, out2, q)
			return
		}
		cgGatherAVX512(dst, src, s, idx, pf, p, w, a, out1, out2)
	},
})

func init() {
	// x/sys/cpu sets HasAVX512F only when the OS saves the ZMM registers.
	if cpu.X86.HasAVX512F {
		tiers["avx512"] = &avx512Kernels
	}
}

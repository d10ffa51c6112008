//go:build !purego

package als

import "golang.org/x/sys/cpu"

// The AVX2+FMA tier (kernels_avx2_amd64.s), supported when the CPU has
// AVX2 and FMA and the OS saves the YMM registers. Each kernel is wrapped
// to check its slice lengths first (checked, in kernels_avx512_amd64.go):
// the assembly does not.
//
// The CG passes are built here from sweeps over chunks of cgChunkRows rows
// while each chunk stays in the L1 cache: rowDotsAVX2 sets
// q_j = w_j·(y_j·p), eight rows at a time (in cgGather, gathering each
// eight just before), then one axpy sweep adds Σ q_j y_j and Σ a_j y_j
// together. With 16 registers a one-sweep pass cannot hold a row, p and
// both sums in registers as the AVX-512 one does.

//go:noescape
func gramLowerAVX2(c, b []float64, m, s int, zero bool)

//go:noescape
func gatherRowsAVX2(dst []float64, src []float32, s int, idx []int32, scale, tgt, rhs []float64, pf []int32)

//go:noescape
func cholBatchAVX2(a, inv []float64, k int)

//go:noescape
func solveBatchAVX2(a, inv, b []float64, k int)

//go:noescape
func copyRowsAVX2(dst, src []float32, s int, idx, pf []int32)

// rowDotsAVX2 sets q[j] = (y_j·p[:s])·w[j] for the m rows y_j of b (w
// nil: unscaled). With idx not nil it first gathers them: y_j = row idx[j]
// of src (stride s), copied into row j of b; row pf[j] of src is
// prefetched (j < len(pf)).
//
//go:noescape
func rowDotsAVX2(q, b []float32, m, s int, p, w, src []float32, idx, pf []int32)

//go:noescape
func axpyRowsAVX2(out, b []float32, m, s int, coef []float32)

// axpy2RowsAVX2 adds Σ_j c1[j]·b[j,:s] to out1 and Σ_j c2[j]·b[j,:s] to
// out2 in one sweep over the m rows of b.
//
//go:noescape
func axpy2RowsAVX2(out1, out2, b []float32, m, s int, c1, c2 []float32)

var avx2Kernels = checked(kernels{
	name:       "avx2",
	gatherRows: gatherRowsAVX2,
	gramLower:  gramLowerAVX2,
	cholBatch:  cholBatchAVX2,
	solveBatch: solveBatchAVX2,
	copyRows:   copyRowsAVX2,
	dotRows: func(q, b []float32, m, s int, p []float32) {
		rowDotsAVX2(q, b, m, s, p, nil, nil, nil, nil)
	},
	axpyRows: axpyRowsAVX2,
	cgPass: func(b []float32, m, s int, p, w, a, out1, out2, q []float32) {
		checkCG("cgPass", b, m, s, p, w, a, out1, out2, q)
		for j0 := 0; j0 < m; j0 += cgChunkRows {
			j1 := min(j0+cgChunkRows, m)
			blk := b[j0*s : j1*s]
			cgChunkAVX2(blk, j0, j1, s, p, w, a, out1, out2, q, nil, nil, nil)
		}
	},
	cgGather: func(dst, src []float32, s int, idx, pf []int32, p, w, a, out1, out2, q []float32) {
		m := len(idx)
		checkCopy("cgGather", dst, src, s, idx, pf)
		checkCG("cgGather", dst, m, s, p, w, a, out1, out2, q)
		for j0 := 0; j0 < m; j0 += cgChunkRows {
			j1 := min(j0+cgChunkRows, m)
			blk := dst[j0*s : j1*s]
			cgChunkAVX2(blk, j0, j1, s, p, w, a, out1, out2, q, src, idx[j0:j1], pf[min(j0, len(pf)):min(j1, len(pf))])
		}
	},
})

// cgChunkRows is the number of rows per chunk of the CG passes: 64 rows of
// rank 64 (16 KiB) stay in the L1 cache between the two sweeps. The sums
// run over the rows in order whatever the chunking, except in the
// 16-column tail of axpyRowsAVX2, which splits even and odd rows of each
// chunk: a fixed chunk size keeps results a function of m and s alone.
const cgChunkRows = 64

// cgChunkAVX2 is the CG pass over rows j0..j1-1 (the block blk, first
// gathered from rows idx of src when idx is not nil, prefetching rows pf):
// q_j = w_j·(y_j·p), out2 += Σ q_j y_j and, when a is not empty,
// out1 += Σ a_j y_j.
func cgChunkAVX2(blk []float32, j0, j1, s int, p, w, a, out1, out2, q, src []float32, idx, pf []int32) {
	n := j1 - j0
	rowDotsAVX2(q[j0:j1], blk, n, s, p, w[j0:j1], src, idx, pf)
	if len(a) > 0 {
		axpy2RowsAVX2(out1, out2, blk, n, s, a[j0:j1], q[j0:j1])
	} else {
		axpyRowsAVX2(out2, blk, n, s, q[j0:j1])
	}
}

func init() {
	// x/sys/cpu sets HasAVX2 only when the OS saves the YMM registers.
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		tiers["avx2"] = &avx2Kernels
	}
}

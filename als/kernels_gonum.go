package als

import (
	"math"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// gonumKernels is the portable reference tier: the linear algebra is
// gonum's BLAS and LAPACK (Syrk for the Gram matrix, Potrf and Trsv for the
// Cholesky solves, Gemv for the float32 row products), the gathers are
// plain Go. It runs on every CPU, and every assembly tier is tested against
// it (TestTiersAgree). Its batched Cholesky unpacks each lane into a dense
// matrix; that costs copies, not correctness. gonum's float32 dot and
// axpy (SSE assembly on amd64) peel elements up to a 16-byte boundary, so
// their rounding depends on the slices' alignment; Go's allocator aligns
// these buffers to 16 bytes and every row starts a multiple of the row
// stride (64 bytes) further, so every row is 16-byte aligned, on every run
// and thread.
var gonumKernels = kernels{
	name:       "gonum",
	gatherRows: gatherRowsGo,
	gramLower:  gramLowerGonum,
	cholBatch:  cholBatchGonum,
	solveBatch: solveBatchGonum,
	copyRows:   copyRowsGo,
	dotRows:    dotRowsGonum,
	axpyRows:   axpyRowsGonum,
	cgPass: func(b []float32, m, s int, p, w, a, out1, out2, q []float32) {
		cgPassRows(dotRowsGonum, axpyRowsGonum, b, m, s, p, w, a, out1, out2, q)
	},
	cgGather: func(dst, src []float32, s int, idx, pf []int32, p, w, a, out1, out2, q []float32) {
		copyRowsGo(dst, src, s, idx, pf)
		cgPassRows(dotRowsGonum, axpyRowsGonum, dst, len(idx), s, p, w, a, out1, out2, q)
	},
}

// gramLowerGonum is C ← BᵀB (zero) or C ← C + BᵀB on the lower triangle,
// by blas64.Syrk.
func gramLowerGonum(c, b []float64, m, s int, zero bool) {
	if m == 0 {
		if zero {
			for r := 0; r < s; r++ {
				clear(c[r*s : r*s+r+1])
			}
		}
		return
	}
	beta := 1.0
	if zero {
		beta = 0
	}
	blas64.Syrk(blas.Trans, 1,
		blas64.General{Rows: m, Cols: s, Stride: s, Data: b[:m*s]},
		beta,
		blas64.Symmetric{Uplo: blas.Lower, N: s, Stride: s, Data: c[:s*s]})
}

// cholBatchGonum factors each lane with lapack64.Potrf. A lane that is not
// positive definite gets NaN on its whole diagonal (Potrf does not say
// which pivot failed), which the caller's pivot check rejects.
func cholBatchGonum(a, inv []float64, k int) {
	buf := denseScratch(k * k)
	defer denseScratchPool.Put(buf)
	d := (*buf)[:k*k]
	for l := 0; l < lanes; l++ {
		unpackLane(d, a, k, l)
		_, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Lower, N: k, Stride: k, Data: d})
		for i := 0; i < k; i++ {
			for j := 0; j <= i; j++ {
				a[packedIndex(i, j)+l] = d[i*k+j]
			}
			if !ok {
				a[packedIndex(i, i)+l] = math.NaN()
			}
			inv[i*lanes+l] = 1 / a[packedIndex(i, i)+l]
		}
	}
}

// solveBatchGonum solves L·Lᵀ·x = b for each lane with two blas64.Trsv.
func solveBatchGonum(a, _, b []float64, k int) {
	buf := denseScratch(k*k + k)
	defer denseScratchPool.Put(buf)
	d, x := (*buf)[:k*k], (*buf)[k*k:k*k+k]
	for l := 0; l < lanes; l++ {
		unpackLane(d, a, k, l)
		for i := range x {
			x[i] = b[i*lanes+l]
		}
		t := blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: k, Stride: k, Data: d}
		v := blas64.Vector{N: k, Inc: 1, Data: x}
		blas64.Trsv(blas.NoTrans, t, v)
		blas64.Trsv(blas.Trans, t, v)
		for i, xi := range x {
			b[i*lanes+l] = xi
		}
	}
}

// denseScratchPool holds the dense matrices the batched solves unpack each
// lane into: they run once per 8 users on every worker, so allocating one
// per call would make the reference tier a garbage generator.
var denseScratchPool sync.Pool

// denseScratch returns a pooled buffer of at least n float64s (contents
// undefined); put it back with denseScratchPool.Put.
func denseScratch(n int) *[]float64 {
	if p, ok := denseScratchPool.Get().(*[]float64); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	b := make([]float64, n)
	return &b
}

// unpackLane copies the lower triangle of lane l of the packed layout into
// the dense k×k row-major d (the upper triangle is left as it is).
func unpackLane(d, a []float64, k, l int) {
	for i := 0; i < k; i++ {
		p := packedIndex(i, 0) + l
		row := d[i*k : i*k+i+1]
		for j := range row {
			row[j] = a[p+j*lanes]
		}
	}
}

// dotRowsGonum is q = B·p by blas32.Gemv.
func dotRowsGonum(q, b []float32, m, s int, p []float32) {
	if m == 0 {
		return
	}
	blas32.Gemv(blas.NoTrans, 1,
		blas32.General{Rows: m, Cols: s, Stride: s, Data: b[:m*s]},
		blas32.Vector{N: s, Inc: 1, Data: p[:s]},
		0, blas32.Vector{N: m, Inc: 1, Data: q[:m]})
}

// axpyRowsGonum is out += Bᵀ·coef by blas32.Gemv.
func axpyRowsGonum(out, b []float32, m, s int, coef []float32) {
	if m == 0 {
		return
	}
	blas32.Gemv(blas.Trans, 1,
		blas32.General{Rows: m, Cols: s, Stride: s, Data: b[:m*s]},
		blas32.Vector{N: m, Inc: 1, Data: coef[:m]},
		1, blas32.Vector{N: s, Inc: 1, Data: out[:s]})
}

package als

import "math"

// The numerical kernels of the solvers. Each has a portable Go version
// (the *Go functions below) and, on amd64 with AVX-512, an assembly version
// selected at start-up (kernels_amd64.go). TestKernelsAgree checks that both
// give the same results to a stated tolerance.
//
// Conventions: factor matrices are row-major float32 with a row stride S, a
// multiple of 16 at least the number of unknowns; the columns past the
// unknowns are zero (or, with biases, column Rank holds the constant 1). A
// "block" is a gathered, contiguous copy of some rows.

// kernels is the set of kernel implementations in use.
type kernels struct {
	name string
	// gatherRows converts rows idx[j] of src (float32, stride s) into dst
	// (float64, stride s), multiplied by scale[j] (scale nil: by 1), and
	// adds Σ_j tgt[j]·src[idx[j]] (unscaled) to rhs[:s]. Rows pf[j] of src
	// (the rows of the next calls) may be prefetched into the cache; they
	// must be valid rows. Cost: m·s.
	gatherRows func(dst []float64, src []float32, s int, idx []int32, scale, tgt, rhs []float64, pf []int32)
	// gramLower adds BᵀB to the lower triangle of c (s×s, row-major) for the
	// m×s block b, or with zero set stores it there (the previous content
	// of c is then ignored); entries above the diagonal may be written too
	// (with their true values). Cost: about m·s²/2 multiply-adds.
	gramLower func(c, b []float64, m, s int, zero bool)
	// cholBatch factors 8 symmetric positive definite k×k matrices at once
	// (see packedIndex for the layout): A = L·Lᵀ, L overwriting the lower
	// triangle of a, and inv[j*8+l] = 1/L[j][j] of lane l. A lane whose
	// matrix is not positive definite gets a non-positive or non-finite
	// pivot; the caller checks. Cost: k³/6 multiply-adds per lane.
	cholBatch func(a, inv []float64, k int)
	// solveBatch solves L·Lᵀ·x = b for the 8 lanes factored by cholBatch;
	// b (k×8, b[i*8+l]) is overwritten by x. Cost: k² per lane.
	solveBatch func(a, inv, b []float64, k int)
	// copyRows copies rows idx[j] of src (stride s) into dst, contiguous;
	// rows pf[j] may be prefetched (they must be valid rows).
	copyRows func(dst, src []float32, s int, idx, pf []int32)
	// dotRows sets q[j] = b[j,:s]·p[:s] for the m rows of the float32 block
	// b (stride s).
	dotRows func(q, b []float32, m, s int, p []float32)
	// axpyRows adds Σ_j coef[j]·b[j,:s] to out[:s].
	axpyRows func(out, b []float32, m, s int, coef []float32)
	// cgPass is one pass of the CG solver over the m rows y_j of b: it adds
	// Σ_j w[j]·(y_j·p)·y_j to out2 and, when a is not empty, Σ_j a[j]·y_j
	// to out1. q (len ≥ m) is scratch.
	cgPass func(b []float32, m, s int, p, w, a, out1, out2, q []float32)
	// cgGather is copyRows(dst, src, s, idx, pf) followed by cgPass on the
	// copied rows, in one sweep.
	cgGather func(dst, src []float32, s int, idx, pf []int32, p, w, a, out1, out2, q []float32)
}

// lanes is the number of normal equations factored together by cholBatch.
const lanes = 8

// packedIndex returns the offset of element (i, j), j ≤ i, of lane 0 in the
// packed lower-triangular, lane-interleaved layout of cholBatch: rows are
// stored one after another, row i holding columns 0..i, and each element
// holds 8 consecutive float64 values, one per lane.
func packedIndex(i, j int) int { return (i*(i+1)/2 + j) * lanes }

// packedLen returns the length of the packed layout for order k.
func packedLen(k int) int { return k * (k + 1) / 2 * lanes }

// stride returns the padded row length for k unknowns: a multiple of 16.
func stride(k int) int { return (k + 15) &^ 15 }

var goKernels = kernels{
	name:       "go",
	gatherRows: gatherRowsGo,
	gramLower:  gramLowerGo,
	cholBatch:  cholBatchGo,
	solveBatch: solveBatchGo,
	copyRows:   copyRowsGo,
	dotRows:    dotRowsGo,
	axpyRows:   axpyRowsGo,
	cgPass:     cgPassGo,
	cgGather: func(dst, src []float32, s int, idx, pf []int32, p, w, a, out1, out2, q []float32) {
		copyRowsGo(dst, src, s, idx, pf)
		cgPassGo(dst, len(idx), s, p, w, a, out1, out2, q)
	},
}

// active is the kernel set used by Fit; kernels_amd64.go replaces it when
// the CPU has AVX-512.
var active = &goKernels

func gatherRowsGo(dst []float64, src []float32, s int, idx []int32, scale, tgt, rhs []float64, _ []int32) {
	rhs = rhs[:s]
	for j, r := range idx {
		row := src[int(r)*s : int(r)*s+s]
		out := dst[j*s : j*s+s]
		t := tgt[j]
		sc := 1.0
		if scale != nil {
			sc = scale[j]
		}
		for c, v := range row {
			f := float64(v)
			out[c] = f * sc
			rhs[c] += t * f
		}
	}
}

func gramLowerGo(c, b []float64, m, s int, zero bool) {
	if zero {
		for r := 0; r < s; r++ {
			clear(c[r*s : r*s+r+1])
		}
	}
	j := 0
	for ; j+4 <= m; j += 4 {
		b0 := b[j*s : j*s+s]
		b1 := b[(j+1)*s : (j+1)*s+s]
		b2 := b[(j+2)*s : (j+2)*s+s]
		b3 := b[(j+3)*s : (j+3)*s+s]
		for r := 0; r < s; r++ {
			x0, x1, x2, x3 := b0[r], b1[r], b2[r], b3[r]
			row := c[r*s : r*s+r+1]
			for q := range row {
				row[q] += x0*b0[q] + x1*b1[q] + x2*b2[q] + x3*b3[q]
			}
		}
	}
	for ; j < m; j++ {
		b0 := b[j*s : j*s+s]
		for r := 0; r < s; r++ {
			x0 := b0[r]
			row := c[r*s : r*s+r+1]
			for q := range row {
				row[q] += x0 * b0[q]
			}
		}
	}
}

func cholBatchGo(a, inv []float64, k int) {
	var acc [lanes]float64
	for j := 0; j < k; j++ {
		rj := packedIndex(j, 0)
		for i := j; i < k; i++ {
			ri := packedIndex(i, 0)
			copy(acc[:], a[ri+j*lanes:ri+j*lanes+lanes])
			for q := 0; q < j; q++ {
				x := a[ri+q*lanes : ri+q*lanes+lanes]
				y := a[rj+q*lanes : rj+q*lanes+lanes]
				for l := range acc {
					acc[l] -= x[l] * y[l]
				}
			}
			out := a[ri+j*lanes : ri+j*lanes+lanes]
			if i == j {
				d := inv[j*lanes : j*lanes+lanes]
				for l := range acc {
					s := math.Sqrt(acc[l])
					out[l] = s
					d[l] = 1 / s
				}
				continue
			}
			d := inv[j*lanes : j*lanes+lanes]
			for l := range acc {
				out[l] = acc[l] * d[l]
			}
		}
	}
}

func solveBatchGo(a, inv, b []float64, k int) {
	// Forward: L·y = b.
	for i := 0; i < k; i++ {
		ri := packedIndex(i, 0)
		y := b[i*lanes : i*lanes+lanes]
		for q := 0; q < i; q++ {
			x := a[ri+q*lanes : ri+q*lanes+lanes]
			z := b[q*lanes : q*lanes+lanes]
			for l := range y {
				y[l] -= x[l] * z[l]
			}
		}
		d := inv[i*lanes : i*lanes+lanes]
		for l := range y {
			y[l] *= d[l]
		}
	}
	// Backward: Lᵀ·x = y, row by row of L (x_i final, then removed from
	// the rows above).
	for i := k - 1; i >= 0; i-- {
		ri := packedIndex(i, 0)
		x := b[i*lanes : i*lanes+lanes]
		d := inv[i*lanes : i*lanes+lanes]
		for l := range x {
			x[l] *= d[l]
		}
		for q := 0; q < i; q++ {
			w := a[ri+q*lanes : ri+q*lanes+lanes]
			z := b[q*lanes : q*lanes+lanes]
			for l := range z {
				z[l] -= w[l] * x[l]
			}
		}
	}
}

func copyRowsGo(dst, src []float32, s int, idx, _ []int32) {
	for j, r := range idx {
		copy(dst[j*s:j*s+s], src[int(r)*s:int(r)*s+s])
	}
}

func dotRowsGo(q, b []float32, m, s int, p []float32) {
	p = p[:s]
	for j := 0; j < m; j++ {
		row := b[j*s : j*s+s]
		var s0, s1, s2, s3 float32
		c := 0
		for ; c+4 <= s; c += 4 {
			s0 += row[c] * p[c]
			s1 += row[c+1] * p[c+1]
			s2 += row[c+2] * p[c+2]
			s3 += row[c+3] * p[c+3]
		}
		for ; c < s; c++ {
			s0 += row[c] * p[c]
		}
		q[j] = (s0 + s1) + (s2 + s3)
	}
}

func axpyRowsGo(out, b []float32, m, s int, coef []float32) {
	out = out[:s]
	for j := 0; j < m; j++ {
		row := b[j*s : j*s+s]
		w := coef[j]
		for c, v := range row {
			out[c] += w * v
		}
	}
}

func cgPassGo(b []float32, m, s int, p, w, a, out1, out2, q []float32) {
	cgPassRows(dotRowsGo, axpyRowsGo, b, m, s, p, w, a, out1, out2, q)
}

// cgPassRows is cgPass from dotRows and axpyRows.
func cgPassRows(dot func(q, b []float32, m, s int, p []float32), axpy func(out, b []float32, m, s int, coef []float32),
	b []float32, m, s int, p, w, a, out1, out2, q []float32) {
	q = q[:m]
	dot(q, b, m, s, p)
	for j := range q {
		q[j] *= w[j]
	}
	axpy(out2, b, m, s, q)
	if len(a) > 0 {
		axpy(out1, b, m, s, a)
	}
}

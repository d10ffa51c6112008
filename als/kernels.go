package als

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
)

// The numerical kernels of the solvers come in tiers, one per instruction
// set: the portable reference tier built on gonum (kernels_gonum.go), and
// assembly tiers for the CPUs that have the instructions (AVX-512 and
// AVX2+FMA on amd64, NEON on arm64), each registered by its own file when
// the CPU supports it. The fastest tier the CPU supports is used unless
// UseKernels picks another; TestTiersAgree checks every supported tier
// against the gonum one.
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

// tierOrder lists every tier's name, fastest first.
var tierOrder = []string{"avx512", "avx2", "neon", "gonum"}

// tiers holds the tiers this CPU supports, by name; the files of the
// assembly tiers add theirs in init when the CPU has the instructions.
var tiers = map[string]*kernels{"gonum": &gonumKernels}

// chosen is the tier UseKernels picked; nil means the fastest supported.
var chosen atomic.Pointer[kernels]

// activeKernels returns the kernel set Fit uses.
func activeKernels() *kernels {
	if k := chosen.Load(); k != nil {
		return k
	}
	return best()
}

func best() *kernels {
	for _, n := range tierOrder {
		if k := tiers[n]; k != nil {
			return k
		}
	}
	return &gonumKernels
}

// KernelTiers returns the names of the kernel tiers this CPU supports,
// fastest first; the last is always "gonum", the portable reference.
func KernelTiers() []string {
	var out []string
	for _, n := range tierOrder {
		if tiers[n] != nil {
			out = append(out, n)
		}
	}
	return out
}

// Kernels returns the name of the tier Fit uses.
func Kernels() string { return activeKernels().name }

// UseKernels makes Fit use the named tier: one of KernelTiers, or "" or
// "auto" for the fastest. A tier the CPU lacks is an error naming those it
// has. It is meant to be called once at start-up, before any Fit: fits
// already running keep the tier they started with.
func UseKernels(name string) error {
	if name == "" || name == "auto" {
		chosen.Store(nil)
		return nil
	}
	k := tiers[name]
	if k == nil {
		if !slices.Contains(tierOrder, name) {
			return fmt.Errorf("unknown kernel tier %q (tiers: %s, or auto)", name, strings.Join(tierOrder, ", "))
		}
		return fmt.Errorf("kernel tier %q needs instructions this CPU lacks (it supports: %s)", name, strings.Join(KernelTiers(), ", "))
	}
	chosen.Store(k)
	return nil
}

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

func copyRowsGo(dst, src []float32, s int, idx, _ []int32) {
	for j, r := range idx {
		copy(dst[j*s:j*s+s], src[int(r)*s:int(r)*s+s])
	}
}

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

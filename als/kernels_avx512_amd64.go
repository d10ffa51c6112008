//go:build !purego

package als

import "golang.org/x/sys/cpu"

// The AVX-512 tier (kernels_avx512_amd64.s), supported when the CPU and the
// OS support AVX-512F. Each kernel is wrapped to check its slice lengths
// first: the assembly does not.

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

var avx512Kernels = kernels{
	name: "avx512",
	gatherRows: func(dst []float64, src []float32, s int, idx []int32, scale, tgt, rhs []float64, pf []int32) {
		checkStride(s)
		m := len(idx)
		if len(dst) < m*s || len(tgt) < m || len(rhs) < s || (scale != nil && len(scale) < m) {
			panic("als: gatherRows: short buffer")
		}
		for _, r := range idx {
			if r < 0 || int(r+1)*s > len(src) {
				panic("als: gatherRows: row index out of range")
			}
		}
		for _, r := range pf {
			if r < 0 || int(r+1)*s > len(src) {
				panic("als: gatherRows: prefetch row index out of range")
			}
		}
		gatherRowsAVX512(dst, src, s, idx, scale, tgt, rhs, pf)
	},
	gramLower: func(c, b []float64, m, s int, zero bool) {
		checkStride(s)
		if len(c) < s*s || len(b) < m*s {
			panic("als: gramLower: short buffer")
		}
		gramLowerAVX512(c, b, m, s, zero)
	},
	cholBatch: func(a, inv []float64, k int) {
		if len(a) < packedLen(k) || len(inv) < k*lanes {
			panic("als: cholBatch: short buffer")
		}
		cholBatchAVX512(a, inv, k)
	},
	solveBatch: func(a, inv, b []float64, k int) {
		if len(a) < packedLen(k) || len(inv) < k*lanes || len(b) < k*lanes {
			panic("als: solveBatch: short buffer")
		}
		solveBatchAVX512(a, inv, b, k)
	},
	copyRows: func(dst, src []float32, s int, idx, pf []int32) {
		checkStride(s)
		if len(dst) < len(idx)*s {
			panic("als: copyRows: short buffer")
		}
		for _, rows := range [][]int32{idx, pf} {
			for _, r := range rows {
				if r < 0 || int(r+1)*s > len(src) {
					panic("als: copyRows: row index out of range")
				}
			}
		}
		copyRowsAVX512(dst, src, s, idx, pf)
	},
	dotRows: func(q, b []float32, m, s int, p []float32) {
		checkStride(s)
		if len(q) < m || len(b) < m*s || len(p) < s {
			panic("als: dotRows: short buffer")
		}
		dotRowsAVX512(q, b, m, s, p)
	},
	cgPass: func(b []float32, m, s int, p, w, a, out1, out2, q []float32) {
		checkStride(s)
		if len(b) < m*s || len(p) < s || len(w) < m || len(out2) < s || (len(a) > 0 && (len(a) < m || len(out1) < s)) {
			panic("als: cgPass: short buffer")
		}
		if s > 64 {
			cgPassRows(dotRowsAVX512, axpyRowsAVX512, b, m, s, p, w, a, out1, out2, q)
			return
		}
		cgPassAVX512(b, m, s, p, w, a, out1, out2)
	},
	cgGather: func(dst, src []float32, s int, idx, pf []int32, p, w, a, out1, out2, q []float32) {
		checkStride(s)
		m := len(idx)
		if len(dst) < m*s || len(p) < s || len(w) < m || len(out2) < s || (len(a) > 0 && (len(a) < m || len(out1) < s)) {
			panic("als: cgGather: short buffer")
		}
		for _, rows := range [][]int32{idx, pf} {
			for _, r := range rows {
				if r < 0 || int(r+1)*s > len(src) {
					panic("als: cgGather: row index out of range")
				}
			}
		}
		if s > 64 {
			copyRowsAVX512(dst, src, s, idx, pf)
			cgPassRows(dotRowsAVX512, axpyRowsAVX512, dst, m, s, p, w, a, out1, out2, q)
			return
		}
		cgGatherAVX512(dst, src, s, idx, pf, p, w, a, out1, out2)
	},
	axpyRows: func(out, b []float32, m, s int, coef []float32) {
		checkStride(s)
		if len(out) < s || len(b) < m*s || len(coef) < m {
			panic("als: axpyRows: short buffer")
		}
		axpyRowsAVX512(out, b, m, s, coef)
	},
}

func checkStride(s int) {
	if s <= 0 || s%16 != 0 {
		panic("als: row stride must be a positive multiple of 16")
	}
}

func init() {
	// x/sys/cpu sets HasAVX512F only when the OS saves the ZMM registers.
	if cpu.X86.HasAVX512F {
		tiers["avx512"] = &avx512Kernels
	}
}

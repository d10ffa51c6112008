package als

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestTiersAgree checks every kernel of every tier this CPU supports
// against the gonum reference tier on random inputs of several shapes
// (the gonum tier itself is checked too: its solves against the residual
// of A·x = b). The tolerance is relative to the magnitudes involved: the
// tiers differ only in the order of additions and in fused multiply-adds
// (float64: 1e-12; float32 sums of up to 128 products: 1e-5).
func TestTiersAgree(t *testing.T) {
	for _, name := range KernelTiers() {
		t.Run(name, func(t *testing.T) {
			kern := tiers[name]
			rng := rand.New(rand.NewPCG(1, 2))
			for _, s := range []int{16, 32, 48, 64, 80, 128} {
				for _, m := range []int{0, 1, 3, 8, 33} {
					testGatherGram(t, rng, kern, s, m)
					testDotAxpy(t, rng, kern, s, m)
				}
			}
			for _, k := range []int{1, 2, 3, 4, 5, 7, 8, 10, 16, 17, 33, 64, 65} {
				testChol(t, rng, kern, k)
			}
		})
	}
}

func testGatherGram(t *testing.T, rng *rand.Rand, kern *kernels, s, m int) {
	n := 50
	src := make([]float32, n*s)
	for i := range src {
		src[i] = float32(rng.NormFloat64())
	}
	idx := make([]int32, m)
	scale := make([]float64, m)
	tgt := make([]float64, m)
	for j := range idx {
		idx[j] = int32(rng.IntN(n))
		scale[j] = rng.Float64() * 2
		tgt[j] = rng.NormFloat64()
	}
	for _, sc := range [][]float64{nil, scale} {
		dst1, dst2 := make([]float64, m*s), make([]float64, m*s)
		rhs1, rhs2 := make([]float64, s), make([]float64, s)
		for c := range rhs1 {
			rhs1[c] = float64(c)
			rhs2[c] = float64(c)
		}
		pf := idx[min(1, m):]
		gonumKernels.gatherRows(dst1, src, s, idx, sc, tgt, rhs1, nil)
		kern.gatherRows(dst2, src, s, idx, sc, tgt, rhs2, pf)
		for i := range dst1 {
			if dst1[i] != dst2[i] {
				t.Fatalf("gatherRows s=%d m=%d: dst[%d] %v vs %v", s, m, i, dst1[i], dst2[i])
			}
		}
		for c := range rhs1 {
			if !close64(rhs1[c], rhs2[c], 1e-12*float64(m+1)) {
				t.Fatalf("gatherRows s=%d m=%d: rhs[%d] %v vs %v", s, m, c, rhs1[c], rhs2[c])
			}
		}
		for _, zero := range []bool{false, true} {
			c1, c2 := make([]float64, s*s), make([]float64, s*s)
			for i := range c1 {
				c1[i] = float64(i % 7)
				c2[i] = c1[i]
			}
			gonumKernels.gramLower(c1, dst1, m, s, zero)
			kern.gramLower(c2, dst1, m, s, zero)
			for i := 0; i < s; i++ {
				for j := 0; j <= i; j++ {
					if !close64(c1[i*s+j], c2[i*s+j], 1e-12*float64(m+1)) {
						t.Fatalf("gramLower s=%d m=%d zero=%v: C[%d][%d] %v vs %v", s, m, zero, i, j, c1[i*s+j], c2[i*s+j])
					}
				}
			}
		}
	}
}

func testDotAxpy(t *testing.T, rng *rand.Rand, kern *kernels, s, m int) {
	b := make([]float32, m*s)
	for i := range b {
		b[i] = float32(rng.NormFloat64())
	}
	p := make([]float32, s)
	for i := range p {
		p[i] = float32(rng.NormFloat64())
	}
	c1, c2 := make([]float32, m*s), make([]float32, m*s)
	idx := make([]int32, m)
	for j := range idx {
		idx[j] = int32(rng.IntN(max(m, 1)))
	}
	gonumKernels.copyRows(c1, b, s, idx, nil)
	kern.copyRows(c2, b, s, idx, idx[min(2, m):])
	for i := range c1 {
		if c1[i] != c2[i] {
			t.Fatalf("copyRows s=%d m=%d: %d: %v vs %v", s, m, i, c1[i], c2[i])
		}
	}
	q1, q2 := make([]float32, m), make([]float32, m)
	gonumKernels.dotRows(q1, b, m, s, p)
	kern.dotRows(q2, b, m, s, p)
	for j := range q1 {
		if !close64(float64(q1[j]), float64(q2[j]), 1e-5*float64(s)) {
			t.Fatalf("dotRows s=%d m=%d: q[%d] %v vs %v", s, m, j, q1[j], q2[j])
		}
	}
	w := make([]float32, m)
	a := make([]float32, m)
	for j := range w {
		w[j] = float32(rng.Float64())
		a[j] = float32(rng.NormFloat64())
	}
	for _, av := range [][]float32{nil, a} {
		outs := make([][]float32, 4)
		for i := range outs {
			outs[i] = make([]float32, s)
			for c := range outs[i] {
				outs[i][c] = float32(c % 5)
			}
		}
		gonumKernels.cgPass(b, m, s, p, w, av, outs[0], outs[1], make([]float32, m))
		kern.cgPass(b, m, s, p, w, av, outs[2], outs[3], make([]float32, m))
		for c := 0; c < s; c++ {
			if !close64(float64(outs[0][c]), float64(outs[2][c]), 1e-5*float64(s*(m+1))) ||
				!close64(float64(outs[1][c]), float64(outs[3][c]), 1e-5*float64(s*(m+1))) {
				t.Fatalf("cgPass s=%d m=%d a=%v: out[%d] %v %v vs %v %v", s, m, av != nil, c, outs[0][c], outs[1][c], outs[2][c], outs[3][c])
			}
		}
		// cgGather on rows of b in reverse order equals cgPass on the
		// reversed block, and copies it.
		idx := make([]int32, m)
		rev := make([]float32, m*s)
		for j := range idx {
			idx[j] = int32(m - 1 - j)
			copy(rev[j*s:j*s+s], b[(m-1-j)*s:(m-j)*s])
		}
		g1, g2 := make([]float32, s), make([]float32, s)
		h1, h2 := make([]float32, s), make([]float32, s)
		dst := make([]float32, m*s)
		gonumKernels.cgPass(rev, m, s, p, w, av, g1, h1, make([]float32, m))
		kern.cgGather(dst, b, s, idx, idx[min(3, m):], p, w, av, g2, h2, make([]float32, m))
		for c := 0; c < s; c++ {
			if !close64(float64(g1[c]), float64(g2[c]), 1e-5*float64(s*(m+1))) ||
				!close64(float64(h1[c]), float64(h2[c]), 1e-5*float64(s*(m+1))) {
				t.Fatalf("cgGather s=%d m=%d: out[%d] %v %v vs %v %v", s, m, c, g1[c], h1[c], g2[c], h2[c])
			}
		}
		for i := range dst {
			if dst[i] != rev[i] {
				t.Fatalf("cgGather s=%d m=%d: copy differs at %d", s, m, i)
			}
		}
	}
	o1, o2 := make([]float32, s), make([]float32, s)
	for i := range o1 {
		o1[i], o2[i] = float32(i), float32(i)
	}
	gonumKernels.axpyRows(o1, b, m, s, q1)
	kern.axpyRows(o2, b, m, s, q1)
	for c := range o1 {
		if !close64(float64(o1[c]), float64(o2[c]), 1e-5*float64(s*(m+1))) {
			t.Fatalf("axpyRows s=%d m=%d: out[%d] %v vs %v", s, m, c, o1[c], o2[c])
		}
	}
}

func testChol(t *testing.T, rng *rand.Rand, kern *kernels, k int) {
	// Eight random SPD matrices A = GᵀG + k·I, packed; lane 7 is made
	// indefinite to check that failure stays in its lane.
	a1 := make([]float64, packedLen(k))
	for l := 0; l < lanes; l++ {
		g := make([]float64, 2*k*k)
		for i := range g {
			g[i] = rng.NormFloat64()
		}
		for i := 0; i < k; i++ {
			for j := 0; j <= i; j++ {
				var v float64
				for r := 0; r < 2*k; r++ {
					v += g[r*k+i] * g[r*k+j]
				}
				if i == j {
					v += float64(k)
					if l == 7 && i == k-1 {
						v = -1e6
					}
				}
				a1[packedIndex(i, j)+l] = v
			}
		}
	}
	a2 := append([]float64(nil), a1...)
	orig := append([]float64(nil), a1...)
	b1 := make([]float64, k*lanes)
	for i := range b1 {
		b1[i] = rng.NormFloat64()
	}
	b2 := append([]float64(nil), b1...)
	rhs := append([]float64(nil), b1...)
	inv1, inv2 := make([]float64, k*lanes), make([]float64, k*lanes)
	gonumKernels.cholBatch(a1, inv1, k)
	gonumKernels.solveBatch(a1, inv1, b1, k)
	kern.cholBatch(a2, inv2, k)
	kern.solveBatch(a2, inv2, b2, k)
	for l := 0; l < 7; l++ {
		// Residual of the Go solution: A·x = b.
		for i := 0; i < k; i++ {
			r := rhs[i*lanes+l]
			for j := 0; j < k; j++ {
				ii, jj := max(i, j), min(i, j)
				r -= orig[packedIndex(ii, jj)+l] * b1[j*lanes+l]
			}
			if math.Abs(r) > 1e-9*float64(k) {
				t.Fatalf("k=%d lane %d: residual %g", k, l, r)
			}
			if !close64(b1[i*lanes+l], b2[i*lanes+l], 1e-10) {
				t.Fatalf("solveBatch k=%d lane %d: x[%d] %v vs %v", k, l, i, b1[i*lanes+l], b2[i*lanes+l])
			}
			for j := 0; j <= i; j++ {
				if !close64(a1[packedIndex(i, j)+l], a2[packedIndex(i, j)+l], 1e-10) {
					t.Fatalf("cholBatch k=%d lane %d: L[%d][%d] %v vs %v", k, l, i, j, a1[packedIndex(i, j)+l], a2[packedIndex(i, j)+l])
				}
			}
		}
	}
	if d := a2[packedIndex(k-1, k-1)+7]; !math.IsNaN(d) {
		t.Errorf("k=%d: indefinite lane has last pivot %v, want NaN", k, d)
	}
}

func close64(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*(1+math.Abs(a))
}

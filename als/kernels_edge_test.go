package als

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// TestTiersAgreeLongBlocks extends TestTiersAgree to blocks longer than
// the CG chunk of the AVX2 tier (cgChunkRows = 64 rows) and than the Gram
// blocks Fit gathers (32 rows), with row strides on both sides of the
// AVX-512 CG fallback (s > 64) and with 16-column tails (s = 16, 48, 80).
// Tolerances are those of TestTiersAgree (relative to the magnitudes and
// to the number of terms summed).
func TestTiersAgreeLongBlocks(t *testing.T) {
	for _, name := range KernelTiers() {
		t.Run(name, func(t *testing.T) {
			kern := tiers[name]
			rng := rand.New(rand.NewPCG(3, 4))
			for _, s := range []int{16, 48, 64, 80, 128} {
				for _, m := range []int{63, 64, 65, 129, 200} {
					testGatherGram(t, rng, kern, s, m)
					testDotAxpy(t, rng, kern, s, m)
				}
			}
		})
	}
}

// TestKernelsIgnoreAlignment: every kernel of every assembly tier gives
// bit-identical results when its slices start 1, 2 or 3 elements further
// into their buffers, so results depend on the values and sizes only,
// never on addresses (the premise of identical factors for any --threads).
// The gonum tier is held to less: gonum's float32 dot and axpy peel
// elements up to a 16-byte boundary first, so its sums are only invariant
// under shifts that keep 16-byte alignment (4 and 8 elements here), which
// Go's allocator gives every buffer of 16 bytes or more. The sizes cross
// the AVX2 CG chunk (70 rows) and take 16-column tails (s = 80); order 13
// is odd for the batched Cholesky.
func TestKernelsIgnoreAlignment(t *testing.T) {
	const s, m, n, k = 80, 70, 90, 13
	rng := rand.New(rand.NewPCG(5, 6))
	f32 := func(l int) []float32 {
		v := make([]float32, l)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	f64 := func(l int) []float64 {
		v := make([]float64, l)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		return v
	}
	src, src64 := f32(n*s), f64(m*s)
	idx, pf := make([]int32, m), make([]int32, m/2)
	for j := range idx {
		idx[j] = int32(rng.IntN(n))
	}
	for j := range pf {
		pf[j] = int32(rng.IntN(n))
	}
	scale, tgt, rhs, c := f64(m), f64(m), f64(s), f64(s*s)
	p, w, a, out1, out2 := f32(s), f32(m), f32(m), f32(s), f32(s)
	// Packed SPD matrices: diagonally dominant.
	spd := make([]float64, packedLen(k))
	for i := 0; i < k; i++ {
		for j := 0; j <= i; j++ {
			for l := 0; l < lanes; l++ {
				v := rng.Float64() - 0.5
				if i == j {
					v = float64(k) + rng.Float64()
				}
				spd[packedIndex(i, j)+l] = v
			}
		}
	}
	pb := f64(k * lanes)

	// outputs runs every kernel on copies of the inputs shifted off elements
	// into their buffers and returns the bits of every output.
	outputs := func(kern *kernels, off int) [][]uint64 {
		var res [][]uint64
		add32 := func(v []float32) {
			b := make([]uint64, len(v))
			for i, x := range v {
				b[i] = uint64(math.Float32bits(x))
			}
			res = append(res, b)
		}
		add64 := func(v []float64) {
			b := make([]uint64, len(v))
			for i, x := range v {
				b[i] = math.Float64bits(x)
			}
			res = append(res, b)
		}
		dst, r := shifted(make([]float64, m*s), off), shifted(rhs, off)
		kern.gatherRows(dst, shifted(src, off), s, shifted(idx, off), shifted(scale, off), shifted(tgt, off), r, shifted(pf, off))
		add64(dst)
		add64(r)
		cc := shifted(c, off)
		kern.gramLower(cc, shifted(src64, off), m, s, false)
		add64(cc)
		pa, inv, x := shifted(spd, off), shifted(make([]float64, k*lanes), off), shifted(pb, off)
		kern.cholBatch(pa, inv, k)
		kern.solveBatch(pa, inv, x, k)
		add64(pa)
		add64(inv)
		add64(x)
		blk := shifted(src[:m*s], off)
		q := shifted(make([]float32, m), off)
		kern.dotRows(q, blk, m, s, shifted(p, off))
		add32(q)
		o := shifted(out2, off)
		kern.axpyRows(o, blk, m, s, shifted(w, off))
		add32(o)
		for _, av := range [][]float32{nil, a} {
			o1, o2 := shifted(out1, off), shifted(out2, off)
			kern.cgPass(blk, m, s, shifted(p, off), shifted(w, off), shifted(av, off), o1, o2, shifted(make([]float32, m), off))
			add32(o1)
			add32(o2)
			o1, o2 = shifted(out1, off), shifted(out2, off)
			d := shifted(make([]float32, m*s), off)
			kern.cgGather(d, shifted(src, off), s, shifted(idx, off), shifted(pf, off), shifted(p, off), shifted(w, off), shifted(av, off), o1, o2, shifted(make([]float32, m), off))
			add32(o1)
			add32(o2)
			add32(d)
		}
		return res
	}
	for _, name := range KernelTiers() {
		kern := tiers[name]
		ref := outputs(kern, 0)
		offs := []int{1, 2, 3}
		if name == "gonum" {
			offs = []int{4, 8}
		}
		for _, off := range offs {
			got := outputs(kern, off)
			for i := range ref {
				for j := range ref[i] {
					if got[i][j] != ref[i][j] {
						t.Fatalf("%s: output %d differs at %d when the slices start %d elements later", name, i, j, off)
					}
				}
			}
		}
	}
}

// shifted returns a copy of v that starts off elements into a new buffer
// (nil stays nil).
func shifted[T any](v []T, off int) []T {
	if v == nil {
		return nil
	}
	buf := make([]T, off+len(v))
	copy(buf[off:], v)
	return buf[off:]
}

// TestTiersAgreeCGFit: implicit CG fits of every tier agree with the gonum
// tier's, at rank 6 (s = 16) and rank 70 (s = 80, where the AVX-512 tier's
// CG passes fall back to separate dot and axpy kernels). The tiers differ
// only in float32 rounding of the CG sums (relative 6e-8 per operation);
// three CG steps and three iterations amplify that to about 5e-6 on
// factors of size about 1 (measured on an AVX-512 Xeon for both assembly
// tiers); 1e-4 leaves a margin of 20 and is the agreement across tiers
// that the package promises for metrics.
func TestTiersAgreeCGFit(t *testing.T) {
	tab := synthTable(11, 200, 90, 4000)
	for _, p := range []Params{
		{Rank: 6, MaxIter: 3, Reg: 0.5, Seed: 2, Implicit: true, Alpha: 2, Solver: SolverCG},
		{Rank: 70, MaxIter: 3, Reg: 5, Seed: 2, Implicit: true, Alpha: 2, RegMode: RegPlain, Solver: SolverCG},
	} {
		ref, err := Fit(context.Background(), tab, p, withKernels(&gonumKernels))
		if err != nil {
			t.Fatal(err)
		}
		for _, kern := range kernelSets() {
			m, err := Fit(context.Background(), tab, p, withKernels(kern))
			if err != nil {
				t.Fatal(err)
			}
			var d float64
			for i := range m.UserFactors {
				d = math.Max(d, math.Abs(float64(m.UserFactors[i]-ref.UserFactors[i])))
			}
			for i := range m.ItemFactors {
				d = math.Max(d, math.Abs(float64(m.ItemFactors[i]-ref.ItemFactors[i])))
			}
			t.Logf("%s rank %d: max |factor − gonum| = %.3g", kern.name, p.Rank, d)
			if d > 1e-4 {
				t.Errorf("%s rank %d: max |factor − gonum tier| = %g, want ≤ 1e-4", kern.name, p.Rank, d)
			}
		}
	}
}

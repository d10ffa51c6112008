package als

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestTiersIgnoreAlignment: every kernel of every supported tier gives
// bit-identical results when its buffers start at a different alignment
// (offsets of 0 to 3 elements into their backing arrays), so factors
// depend only on the data and the sizes, never on where the allocator put
// a buffer. Expected values are the tier's own results at offset 0; the
// comparison is exact.
//
// The gonum tier does not have this property on amd64: gonum's SSE float32
// dot product and axpy (internal/asm/f32, dotunitary_amd64.s) first step
// element by element to a 16-byte boundary, so where a row starts changes
// the order of its additions. It is exempt there, with the reason logged.
func TestTiersIgnoreAlignment(t *testing.T) {
	for _, name := range KernelTiers() {
		t.Run(name, func(t *testing.T) {
			if name == "gonum" && runtime.GOARCH == "amd64" {
				t.Skip("gonum's amd64 float32 assembly aligns its loops to the address, so its sums depend on it")
			}
			kern := tiers[name]
			for _, s := range []int{16, 48, 80} {
				for _, m := range []int{1, 5, 9} {
					var ref [][]uint64
					for off := 0; off < 4; off++ {
						got := runKernels(kern, s, m, off)
						if off == 0 {
							ref = got
							continue
						}
						for i := range ref {
							for j := range ref[i] {
								if got[i][j] != ref[i][j] {
									t.Fatalf("s=%d m=%d offset %d: output %d element %d differs: %x vs %x",
										s, m, off, i, j, got[i][j], ref[i][j])
								}
							}
						}
					}
				}
			}
		})
	}
}

// at returns a copy of v that starts off elements into a fresh array.
func at[T any](v []T, off int) []T {
	out := make([]T, off+len(v))[off:]
	copy(out, v)
	return out
}

func bits64(v []float64) []uint64 {
	out := make([]uint64, len(v))
	for i, x := range v {
		out[i] = math.Float64bits(x)
	}
	return out
}

func bits32(v []float32) []uint64 {
	out := make([]uint64, len(v))
	for i, x := range v {
		out[i] = uint64(math.Float32bits(x))
	}
	return out
}

// runKernels runs every kernel of kern on inputs drawn from a fixed seed
// (the same for every off), with all buffers shifted by off elements, and
// returns the bits of every output.
func runKernels(kern *kernels, s, m, off int) [][]uint64 {
	rng := rand.New(rand.NewPCG(uint64(s), uint64(m)))
	f32 := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return at(v, off)
	}
	f64 := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		return at(v, off)
	}
	n := 20
	src := f32(n * s)
	idx := make([]int32, m)
	for j := range idx {
		idx[j] = int32(rng.IntN(n))
	}
	idx = at(idx, off)
	var outs [][]uint64

	dst, scale, tgt, rhs := at(make([]float64, m*s), off), f64(m), f64(m), f64(s)
	kern.gatherRows(dst, src, s, idx, scale, tgt, rhs, idx)
	c := f64(s * s)
	kern.gramLower(c, dst, m, s, false)
	outs = append(outs, bits64(dst), bits64(rhs), bits64(c))

	// Diagonally dominant, hence positive definite, packed matrices.
	k := s/16 + m
	a := f64(packedLen(k))
	for i := 0; i < k; i++ {
		for l := 0; l < lanes; l++ {
			a[packedIndex(i, i)+l] += float64(2 * k)
		}
	}
	inv, b := at(make([]float64, k*lanes), off), f64(k*lanes)
	kern.cholBatch(a, inv, k)
	kern.solveBatch(a, inv, b, k)
	outs = append(outs, bits64(a), bits64(inv), bits64(b))

	rows := at(make([]float32, m*s), off)
	kern.copyRows(rows, src, s, idx, idx)
	p, q, coef := f32(s), at(make([]float32, m), off), f32(m)
	kern.dotRows(q, rows, m, s, p)
	acc := f32(s)
	kern.axpyRows(acc, rows, m, s, coef)
	outs = append(outs, bits32(rows), bits32(q), bits32(acc))

	w, av, out1, out2 := f32(m), f32(m), f32(s), f32(s)
	kern.cgPass(rows, m, s, p, w, av, out1, out2, at(make([]float32, m), off))
	g1, g2, gdst := f32(s), f32(s), at(make([]float32, m*s), off)
	kern.cgGather(gdst, src, s, idx, idx, p, w, av, g1, g2, at(make([]float32, m), off))
	return append(outs, bits32(out1), bits32(out2), bits32(g1), bits32(g2), bits32(gdst))
}

package als

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/recs-dev/recs/internal/testenv"
	"github.com/recs-dev/recs/ratings"
)

// BenchmarkGram measures the Gram kernel on blocks of 32 rows (the block
// size Fit uses) and reports GFLOP/s counting 2·k² flops per row, the
// convention of the 163 GFLOP per ml-20m iteration figure.
func BenchmarkGram(b *testing.B) {
	for _, kern := range kernelSets() {
		for _, k := range []int{10, 32, 64, 128} {
			b.Run(fmt.Sprintf("%s/k=%d/rows=32", kern.name, k), func(b *testing.B) {
				s := stride(k)
				blk := make([]float64, blockRows*s)
				for i := range blk {
					blk[i] = float64(i%13) * 0.1
				}
				c := make([]float64, s*s)
				b.ResetTimer()
				t0 := testenv.CPUTime()
				for i := 0; i < b.N; i++ {
					kern.gramLower(c, blk, blockRows, s, false)
				}
				flop := 2 * float64(k*k*blockRows) * float64(b.N)
				b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				b.ReportMetric(flop/(testenv.CPUTime()-t0).Seconds()/1e9, "GFLOP/cpu-s")
			})
		}
	}
}

// BenchmarkCholBatch measures factor + solve of 8 systems of order k.
func BenchmarkCholBatch(b *testing.B) {
	for _, kern := range kernelSets() {
		for _, k := range []int{10, 64, 128} {
			b.Run(fmt.Sprintf("%s/k=%d", kern.name, k), func(b *testing.B) {
				a := make([]float64, packedLen(k))
				for i := 0; i < k; i++ {
					for j := 0; j <= i; j++ {
						for l := 0; l < lanes; l++ {
							v := 0.01 / float64(1+i-j)
							if i == j {
								v = float64(k)
							}
							a[packedIndex(i, j)+l] = v
						}
					}
				}
				w := make([]float64, len(a))
				inv := make([]float64, k*lanes)
				rhs := make([]float64, k*lanes)
				b.ResetTimer()
				t0 := testenv.CPUTime()
				for i := 0; i < b.N; i++ {
					copy(w, a)
					kern.cholBatch(w, inv, k)
					kern.solveBatch(w, inv, rhs, k)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/lanes, "ns/system")
				b.ReportMetric(float64((testenv.CPUTime()-t0).Nanoseconds())/float64(b.N)/lanes, "cpu-ns/system")
			})
		}
	}
}

// powerLawTable returns n ratings of nu users and ni items whose
// popularities follow Zipf-like laws (MovieLens-shaped), seeded.
func powerLawTable(seed uint64, nu, ni, n int) *ratings.Table {
	rng := rand.New(rand.NewPCG(seed, 11))
	cdf := func(m int, s float64) []float64 {
		c := make([]float64, m)
		var t float64
		for i := range c {
			t += 1 / math.Pow(float64(i+1), s)
			c[i] = t
		}
		for i := range c {
			c[i] /= t
		}
		return c
	}
	uc, ic := cdf(nu, 0.6), cdf(ni, 0.9)
	draw := func(c []float64) int {
		x := rng.Float64()
		lo, hi := 0, len(c)-1
		for lo < hi {
			mid := (lo + hi) / 2
			if c[mid] < x {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		return lo
	}
	userIDs := make([]string, nu)
	itemIDs := make([]string, ni)
	for i := range userIDs {
		userIDs[i] = fmt.Sprint(i + 1)
	}
	for i := range itemIDs {
		itemIDs[i] = fmt.Sprint(i + 1)
	}
	us, is, rs := make([]int32, n), make([]int32, n), make([]float32, n)
	for r := range us {
		us[r] = int32(draw(uc))
		is[r] = int32(draw(ic))
		rs[r] = float32(1 + rng.IntN(5))
	}
	t, err := ratings.New(userIDs, itemIDs, us, is, rs, nil)
	if err != nil {
		panic(err)
	}
	return t
}

// BenchmarkFit runs whole fits on MovieLens-shaped synthetic data (Zipf
// popularities; duplicates of a pair count as separate ratings) and
// reports seconds per iteration.
func BenchmarkFit(b *testing.B) {
	sizes := []struct {
		name      string
		nu, ni, n int
	}{
		{"ml-100k", 943, 1682, 100_000},
		{"ml-1m", 6040, 3706, 1_000_209},
	}
	for _, sz := range sizes {
		tab := powerLawTable(1, sz.nu, sz.ni, sz.n)
		for _, tc := range []struct {
			name string
			p    Params
		}{
			{"explicit/rank=10", Params{Rank: 10, MaxIter: 15, Reg: 0.05}},
			{"explicit/rank=64", Params{Rank: 64, MaxIter: 5, Reg: 0.05}},
			{"implicit-cg/rank=64", Params{Rank: 64, MaxIter: 15, Reg: 20, Alpha: 2, Implicit: true, RegMode: RegPlain, Solver: SolverCG}},
			{"implicit-chol/rank=64", Params{Rank: 64, MaxIter: 5, Reg: 20, Alpha: 2, Implicit: true, RegMode: RegPlain}},
		} {
			b.Run(sz.name+"/"+tc.name, func(b *testing.B) {
				b.ReportAllocs()
				t0 := testenv.CPUTime()
				for i := 0; i < b.N; i++ {
					if _, err := Fit(context.Background(), tab, tc.p); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(b.Elapsed().Seconds()/float64(b.N*tc.p.MaxIter), "s/iter")
				b.ReportMetric((testenv.CPUTime()-t0).Seconds()/float64(b.N*tc.p.MaxIter), "cpu-s/iter")
			})
		}
	}
}

// BenchmarkCG measures the passes of the CG solver over the rows of one
// entity (rows=200, the mean of ml-1m's users): cgPass over the gathered
// block, and cgGather gathering the rows from a factor matrix of 100,000
// rows (25.6 MB at k=64, larger than the caches) in random order with the
// next rows prefetched, as Fit does. Reports ns per row.
func BenchmarkCG(b *testing.B) {
	const rows, n = 200, 100_000
	for _, kern := range kernelSets() {
		for _, k := range []int{10, 64} {
			s := stride(k)
			rng := rand.New(rand.NewPCG(1, 2))
			src := make([]float32, n*s)
			for i := range src {
				src[i] = float32(rng.NormFloat64())
			}
			idx := make([]int32, 64*rows)
			for j := range idx {
				idx[j] = int32(rng.IntN(n))
			}
			blk := make([]float32, rows*s)
			p, out1, out2 := make([]float32, s), make([]float32, s), make([]float32, s)
			w, a, q := make([]float32, rows), make([]float32, rows), make([]float32, rows)
			for j := range w {
				w[j], a[j] = rng.Float32(), rng.Float32()
			}
			for c := range p {
				p[c] = float32(rng.NormFloat64())
			}
			b.Run(fmt.Sprintf("%s/pass/k=%d/rows=%d", kern.name, k, rows), func(b *testing.B) {
				copy(blk, src)
				for i := 0; i < b.N; i++ {
					kern.cgPass(blk, rows, s, p, w, nil, nil, out2, q)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
			})
			b.Run(fmt.Sprintf("%s/gather/k=%d/rows=%d", kern.name, k, rows), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					e := i % 63
					kern.cgGather(blk, src, s, idx[e*rows:(e+1)*rows], idx[e*rows+cgAhead:(e+1)*rows+cgAhead], p, w, a, out1, out2, q)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
			})
		}
	}
}

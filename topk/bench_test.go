package topk

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/internal/testenv"
)

// benchExclusion gives every user perUser distinct random items, like the
// ~145 training ratings per user of MovieLens 20M.
func benchExclusion(seed uint64, users, items, perUser int) *Exclusion {
	rng := rand.New(rand.NewPCG(seed, 4))
	lists := make([][]int32, users)
	for u := range lists {
		l := make([]int32, perUser)
		for j := range l {
			l[j] = int32(rng.IntN(items))
		}
		lists[u] = l
	}
	return NewExclusionLists(lists)
}

// BenchmarkEach scores every user of a random model against every item and
// keeps the top 10, excluding ~145 random items per user. The largest size
// is MovieLens 20M (138,000 users × 27,000 items) at rank 64, whose bar
// (README, Performance) is < 15 s on 2 cores. Reported: users/s and GFLOP/s of scoring
// (2·users·items·rank flops per op).
func BenchmarkEach(b *testing.B) {
	for _, sz := range []struct{ users, items, rank int }{
		{943, 1682, 10}, {6040, 3706, 64}, {138000, 27000, 64},
	} {
		var m *als.Model
		var ex *Exclusion
		for _, kn := range kernels {
			if kn == generic && sz.users > 10000 && testing.Short() {
				continue
			}
			b.Run(fmt.Sprintf("users=%d/items=%d/rank=%d/k=10/kernel=%s", sz.users, sz.items, sz.rank, kn.name), func(b *testing.B) {
				if m == nil {
					m = randModel(1, sz.users, sz.items, sz.rank)
					ex = benchExclusion(2, sz.users, sz.items, min(145, sz.items/10))
				}
				opts := Options{K: 10, Exclude: ex}
				b.ResetTimer()
				cpu0 := testenv.CPUTime()
				for i := 0; i < b.N; i++ {
					n := 0
					err := each(context.Background(), m, opts, kn, func(int32, []int32, []float32) error { n++; return nil })
					if err != nil || n != sz.users {
						b.Fatal(err, n)
					}
				}
				sec := b.Elapsed().Seconds() / float64(b.N)
				flops := 2 * float64(sz.users) * float64(sz.items) * float64(sz.rank)
				b.ReportMetric(float64(sz.users)/sec, "users/s")
				b.ReportMetric(flops/sec/1e9, "GFLOP/s")
				if cpu := (testenv.CPUTime() - cpu0).Seconds() / float64(b.N); cpu > 0 {
					b.ReportMetric(cpu, "cpu-s/op")
					b.ReportMetric(flops/cpu/1e9, "GFLOP/cpu-s")
				}
			})
		}
	}
}

// BenchmarkKernel measures one kernel on L1-resident tiles: the ceiling of
// scoring throughput on one core.
func BenchmarkKernel(b *testing.B) {
	for _, rank := range []int{10, 64, 128} {
		for _, kn := range kernels {
			b.Run(fmt.Sprintf("rank=%d/kernel=%s", rank, kn.name), func(b *testing.B) {
				a := make([]float32, kn.mr*rank)
				p := make([]float32, kn.nr*rank)
				for i := range a {
					a[i] = float32(i%7) - 3
				}
				for i := range p {
					p[i] = float32(i%5) - 2
				}
				c := make([]float32, kn.mr*kn.nr)
				thr := make([]float32, kn.mr)
				for i := range thr {
					thr[i] = 1e30
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					kn.tile(a, p, c, thr, rank)
				}
				flops := 2 * float64(kn.mr*kn.nr*rank) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

package eval

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/internal/testenv"
	"github.com/recs-dev/recs/ratings"
)

// benchData is a random model and a random 75/25 split shaped like
// MovieLens 20M: users × items, perUser ratings per user.
func benchData(users, items, rank, perUser int) (*als.Model, *ratings.Table, *ratings.Table) {
	rng := rand.New(rand.NewPCG(20, 25))
	m := &als.Model{Rank: rank, ID: "als-bench", UserFactors: make([]float32, users*rank), ItemFactors: make([]float32, items*rank)}
	uids, iids := make([]string, users), make([]string, items)
	for u := range uids {
		uids[u] = fmt.Sprint(u + 1)
	}
	for i := range iids {
		iids[i] = fmt.Sprint(i + 1)
	}
	m.UserIDs, m.ItemIDs = uids, iids
	for _, f := range [][]float32{m.UserFactors, m.ItemFactors} {
		for j := range f {
			f[j] = float32(rng.NormFloat64() * 0.3)
		}
	}
	n := users * perUser
	var tr, te [3][]int32
	var trR, teR []float32
	for _, s := range []*[3][]int32{&tr, &te} {
		for c := range s {
			s[c] = make([]int32, 0, n/2)
		}
	}
	for u := 0; u < users; u++ {
		for j := 0; j < perUser; j++ {
			it := int32(rng.IntN(items))
			r := float32(1 + rng.IntN(5))
			if rng.IntN(4) == 0 {
				te[0], te[1] = append(te[0], int32(u)), append(te[1], it)
				teR = append(teR, r)
			} else {
				tr[0], tr[1] = append(tr[0], int32(u)), append(tr[1], it)
				trR = append(trR, r)
			}
		}
	}
	train, err := ratings.New(uids, iids, tr[0], tr[1], trR, nil)
	if err != nil {
		panic(err)
	}
	test, err := ratings.New(uids, iids, te[0], te[1], teR, nil)
	if err != nil {
		panic(err)
	}
	return m, train, test
}

// BenchmarkEvaluateModel is the whole of `recs eval`'s work after loading:
// id mapping, training exclusions, all-user top-k scoring and every metric,
// on random data. The largest size is MovieLens 20M (138,000 users, 27,000
// items, ~20M ratings) at rank 64 and k = 10, whose bar (README,
// Performance) is < 15 s and < 2 GB on 2 cores (peak memory:
// scripts/bench-eval.sh).
func BenchmarkEvaluateModel(b *testing.B) {
	for _, sz := range []struct{ users, items, rank, perUser int }{
		{943, 1682, 10, 106}, {138000, 27000, 64, 145},
	} {
		name := fmt.Sprintf("users=%d/items=%d/rank=%d/ratings=%d/k=10", sz.users, sz.items, sz.rank, sz.users*sz.perUser)
		b.Run(name, func(b *testing.B) {
			m, train, test := benchData(sz.users, sz.items, sz.rank, sz.perUser)
			b.ResetTimer()
			cpu0 := testenv.CPUTime()
			var d *Document
			for i := 0; i < b.N; i++ {
				var err error
				d, err = EvaluateModel(context.Background(), m, train, test, Options{})
				if err != nil {
					b.Fatal(err)
				}
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			users := float64(d.Counts.RankedUsers)
			b.ReportMetric(users/sec, "users/s")
			b.ReportMetric(2*users*float64(sz.items)*float64(sz.rank)/sec/1e9, "GFLOP/s")
			if cpu := (testenv.CPUTime() - cpu0).Seconds() / float64(b.N); cpu > 0 {
				b.ReportMetric(cpu, "cpu-s/op")
			}
		})
	}
}

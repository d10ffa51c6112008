package split

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/recs-dev/recs/internal/testenv"
	"github.com/recs-dev/recs/ratings"
)

// benchTable returns n rows shaped like MovieLens 25M: 162,541 users whose
// rows come in runs, 59,047 items with long-tailed popularity, increasing
// times.
func benchTable(n int) *ratings.Table {
	const nu, ni = 162541, 59047
	rng := rand.New(rand.NewPCG(42, 0))
	t := &ratings.Table{UserIDs: make([]string, nu), ItemIDs: make([]string, ni),
		Users: make([]int32, n), Items: make([]int32, n), Ratings: make([]float32, n), Times: make([]int64, n)}
	for i := range t.UserIDs {
		t.UserIDs[i] = strconv.Itoa(i + 1)
	}
	for i := range t.ItemIDs {
		t.ItemIDs[i] = strconv.Itoa(i + 1)
	}
	u := int32(0)
	for r := 0; r < n; r++ {
		if rng.IntN(150) == 0 {
			u = int32(rng.IntN(nu))
		}
		f := rng.Float64()
		t.Users[r], t.Items[r] = u, int32(f*f*f*ni)
		t.Ratings[r] = float32(rng.IntN(10)+1) / 2
		t.Times[r] = 789652009 + int64(rng.IntN(1<<28))
	}
	return t
}

// BenchmarkSplit times each method; run the ML-25M size with
// -bench 'Split/rows=25e6' -benchtime 1x.
func BenchmarkSplit(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1e6", 1e6}, {"25e6", 25e6}} {
		var tab *ratings.Table
		for _, m := range []string{"random", "stratified", "chrono", "leave-last"} {
			b.Run("rows="+size.name+"/"+m, func(b *testing.B) {
				if tab == nil {
					tab = benchTable(size.n)
				}
				b.ResetTimer()
				c0 := testenv.CPUTime()
				for i := 0; i < b.N; i++ {
					var err error
					switch m {
					case "random":
						_, err = Random(tab, []float64{0.75}, 42)
					case "stratified":
						_, err = Stratified(tab, []float64{0.75}, 1, ByUser, 42)
					case "chrono":
						_, err = Chrono(tab, []float64{0.75}, 1, ByUser)
					case "leave-last":
						_, err = LeaveLast(tab, 1)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(testenv.CPUTime()-c0)/1e6/float64(b.N), "cpu-ms/op")
			})
		}
	}
}

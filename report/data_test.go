package report

import (
	"math"
	"strings"
	"testing"

	"github.com/recs-dev/recs/ratings"
	"github.com/recs-dev/recs/toplist"
)

func table(t *testing.T, rows [][3]string, vals []float32) *ratings.Table {
	t.Helper()
	b := ratings.NewBuilder(false)
	for j, r := range rows {
		b.Add(r[0], r[1], vals[j], 0)
	}
	return b.Table()
}

func TestRateStatsDistinct(t *testing.T) {
	tb := table(t, [][3]string{{"a", "x"}, {"a", "y"}, {"b", "x"}, {"c", "z"}}, []float32{1, 2, 2, 5})
	s := rateStats(tb)
	// Hand-computed: mean (1+2+2+5)/4 = 2.5; population variance
	// (1.5² + 0.5² + 0.5² + 2.5²)/4 = 2.25, σ = 1.5; density 4/(3·3).
	const tol = 1e-12
	if s.Rows != 4 || s.Users != 3 || s.Items != 3 {
		t.Fatalf("rows/users/items = %d/%d/%d, want 4/3/3", s.Rows, s.Users, s.Items)
	}
	if math.Abs(s.Mean-2.5) > tol || math.Abs(s.Std-1.5) > tol || math.Abs(s.Density-4.0/9) > tol {
		t.Errorf("mean %v std %v density %v, want 2.5 1.5 0.444…", s.Mean, s.Std, s.Density)
	}
	if !s.Distinct || len(s.Counts) != 3 || s.Lo[0] != 1 || s.Lo[1] != 2 || s.Lo[2] != 5 ||
		s.Counts[0] != 1 || s.Counts[1] != 2 || s.Counts[2] != 1 {
		t.Errorf("histogram %v %v (distinct %v), want values 1,2,5 counts 1,2,1", s.Lo, s.Counts, s.Distinct)
	}
}

func TestRateStatsBinned(t *testing.T) {
	// 100 distinct values 0, 0.1, …, 9.9: more than maxDistinct, so 20
	// equal-width bins over [0, 9.9]; every row lands in one bin, and the
	// maximum in the last.
	var rows [][3]string
	var vals []float32
	for j := 0; j < 100; j++ {
		rows = append(rows, [3]string{"u", string(rune('a'+j%26)) + string(rune('a'+j/26))})
		vals = append(vals, float32(j)/10)
	}
	s := rateStats(table(t, rows, vals))
	if s.Distinct || len(s.Counts) != histBins {
		t.Fatalf("distinct %v bins %d, want binned into %d", s.Distinct, len(s.Counts), histBins)
	}
	total := 0
	for _, c := range s.Counts {
		total += c
	}
	if total != 100 || s.Counts[histBins-1] == 0 {
		t.Errorf("bin counts %v sum to %d, want 100 with the maximum in the last bin", s.Counts, total)
	}
}

func TestRateStatsEmpty(t *testing.T) {
	s := rateStats(table(t, nil, nil))
	if s.Rows != 0 || !math.IsNaN(s.Mean) {
		t.Errorf("empty table: rows %d mean %v, want 0 and NaN", s.Rows, s.Mean)
	}
	if out, err := ratingPlot(s); err != nil || out != "" {
		t.Errorf("empty table plots %q, %v; want nothing", out, err)
	}
}

func TestPopStats(t *testing.T) {
	// Training counts: x 3, y 2, z 2, w 1. Ties (y, z) order by id.
	tb := table(t, [][3]string{{"a", "x"}, {"b", "x"}, {"c", "x"}, {"a", "z"}, {"b", "z"}, {"a", "y"}, {"c", "y"}, {"c", "w"}},
		[]float32{1, 1, 1, 1, 1, 1, 1, 1})
	lists := []toplist.List{
		{User: "a", Items: []toplist.Item{{ID: "x"}, {ID: "w"}}},
		{User: "b", Items: []toplist.Item{{ID: "x"}, {ID: "nope"}}},
		{User: "c"}, // empty list: not a user with a list
	}
	p := popStats(tb, lists)
	wantIDs := []string{"x", "y", "z", "w"}
	wantTrain := []int{3, 2, 2, 1}
	wantRecs := []int{2, 0, 0, 1}
	for j := range wantIDs {
		if p.IDs[j] != wantIDs[j] || p.Train[j] != wantTrain[j] || p.Recs[j] != wantRecs[j] {
			t.Fatalf("items %v train %v recs %v, want %v %v %v", p.IDs, p.Train, p.Recs, wantIDs, wantTrain, wantRecs)
		}
	}
	if p.Users != 2 || p.Slots != 4 || p.Unknown != 1 || p.Recommend != 2 || p.K != 2 || p.TrainTotal != 8 {
		t.Errorf("users %d slots %d unknown %d recommended %d k %d total %d, want 2 4 1 2 2 8",
			p.Users, p.Slots, p.Unknown, p.Recommend, p.K, p.TrainTotal)
	}
	// Coverage: 2 of 4 items. Head 25% = 1 item (x): 3/8 of ratings, 2/3
	// of the known recommendations. Rare (< 2 ratings): w, 1/3.
	if c := p.Coverage(); c != 0.5 {
		t.Errorf("coverage %v, want 0.5", c)
	}
	tr, rc, n := p.HeadShare(0.25)
	if n != 1 || tr != 3.0/8 || rc != 2.0/3 {
		t.Errorf("head share %v %v over %d items, want 0.375 0.667 over 1", tr, rc, n)
	}
	if r := p.RareShare(2); r != 1.0/3 {
		t.Errorf("rare share %v, want 1/3", r)
	}
}

func TestGini(t *testing.T) {
	// G = Σ(2i−n−1)x_(i)/(n·Σx): [0 0 0 1] → (3·1)/(4·1) = 0.75; equal → 0;
	// [1 2 3] → (−2·1 + 0·2 + 2·3)/(3·6) = 4/18.
	for _, c := range []struct {
		xs   []int
		want float64
	}{{[]int{1, 0, 0, 0}, 0.75}, {[]int{5, 5, 5}, 0}, {[]int{3, 1, 2}, 4.0 / 18}} {
		if g := gini(c.xs); math.Abs(g-c.want) > 1e-12 {
			t.Errorf("gini(%v) = %v, want %v", c.xs, g, c.want)
		}
	}
	if g := gini([]int{0, 0}); !math.IsNaN(g) {
		t.Errorf("gini of zeros = %v, want NaN", g)
	}
}

func TestFlatten(t *testing.T) {
	got, err := flatten([]byte(`{"rank":10, "solver":"cg", "nested":{"a":1,"b":{"c":true}}, "list":[1,2]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []kv{{"rank", "10"}, {"solver", "cg"}, {"nested.a", "1"}, {"nested.b.c", "true"}, {"list", "[1,2]"}}
	if len(got) != len(want) {
		t.Fatalf("flatten = %v, want %v", got, want)
	}
	for j := range want {
		if got[j] != want[j] {
			t.Errorf("flatten[%d] = %v, want %v", j, got[j], want[j])
		}
	}
	if _, err := flatten([]byte(`[1]`)); err == nil {
		t.Error("flatten of an array: no error")
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{num(0.048532), "0.04853"},
		{num(12.345678), "12.35"},
		{num(0.21), "0.21"},
		{num(1.0), "1"},
		{num(123456.7), "123,457"},
		{num(0.00001234), "1.234e-05"},
		{num(math.NaN()), "—"},
		{pct(0.0312), "3.1%"},
		{pct(0.004), "0.40%"},
		{count(1234567), "1,234,567"},
		{count(-1234), "-1,234"},
		{count(12), "12"},
		{seconds(3.14159), "3.142 s"},
		{seconds(0.011084), "11.08 ms"},
		{seconds(2.1e-7), "< 1 ms"},
		{seconds(125.4), "2 min 05 s"},
		{seconds(179.6), "3 min 00 s"},
		{fixed(0.1, 4), "0.1000"},
		{pretty("ndcg@10"), "NDCG@10"},
		{pretty("rmse"), "RMSE"},
		{pretty("precision@10"), "precision@10"},
		{pretty("rsquared"), "R²"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestNiceTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi  float64
		integer bool
		want    string
	}{
		// Range/5 = 0.04 → step 0.05 (the next of 1, 2, 2.5, 5 × 10^-2).
		{0, 0.2, false, "0.00 0.05 0.10 0.15 0.20"},
		// Range/5 = 800 → step 1000, labels grouped.
		{0, 4000, false, "0 1,000 2,000 3,000 4,000"},
		// Range/5 = 2.2 → 2.5 is skipped for integers → 5.
		{1, 12, true, "5 10"},
		// Range/5 = 0.5 → step 1 for integers.
		{1, 3.5, true, "1 2 3"},
		// Range/5 = 0.5 → step 0.5 otherwise.
		{0, 2.5, false, "0.0 0.5 1.0 1.5 2.0 2.5"},
	} {
		var got []string
		for _, tk := range (niceTicks{integer: c.integer}).Ticks(c.lo, c.hi) {
			got = append(got, tk.Label)
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("ticks(%v, %v, int %v) = %q, want %q", c.lo, c.hi, c.integer, g, c.want)
		}
	}
}

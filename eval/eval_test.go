package eval

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/ratings"
	"github.com/recs-dev/recs/topk"
	"github.com/recs-dev/recs/toplist"
)

// TestPerfectRanking: when each user's top of the list is exactly its
// relevant items, precision@k = min(k, R)/k, recall@k = min(k, R)/R and
// NDCG@k = map_at_k@k = 1 per user (definitions in doc.go), averaged.
func TestPerfectRanking(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	ks := []int{1, 3, 10}
	acc := NewRankingAccumulator(ks, 100, 100)
	var wantP, wantR [3]float64
	users := 40
	for u := 0; u < users; u++ {
		perm := rng.Perm(100)
		R := 1 + rng.IntN(15)
		rel := make([]int32, R)
		recs := make([]int32, 20)
		for j := range recs {
			recs[j] = int32(perm[j])
		}
		copy(rel, recs[:R])
		slices.Sort(rel)
		acc.Add(recs, rel, R)
		for i, k := range ks {
			wantP[i] += float64(min(k, R)) / float64(k) / float64(users)
			wantR[i] += float64(min(k, R)) / float64(R) / float64(users)
		}
	}
	for i, k := range ks {
		for name, want := range map[string]float64{Precision: wantP[i], Recall: wantR[i], NDCG: 1, MAPAtK: 1} {
			got := metricOf(t, acc.Metrics(), Key(name, k))
			if math.Abs(got-want) > 1e-12 {
				t.Errorf("%s = %v, want %v", Key(name, k), got, want)
			}
		}
	}
}

// TestNoHitsContributeZero: adding users without hits scales every
// ranking metric by n/(n+m) and leaves coverage's numerator alone.
func TestNoHitsContributeZero(t *testing.T) {
	a := NewRankingAccumulator([]int{5}, 50, 50)
	b := NewRankingAccumulator([]int{5}, 50, 50)
	for _, x := range []*RankingAccumulator{a, b} {
		x.Add([]int32{1, 2, 3, 4, 5}, []int32{2, 5, 40}, 4)
		x.Add([]int32{9, 8}, []int32{8}, 1)
	}
	b.Add([]int32{1, 2, 3}, []int32{30, 31}, 2)
	b.Add([]int32{4}, []int32{44}, 7)
	ma, mb := a.Metrics(), b.Metrics()
	for i := range ma {
		if ma[i].Name == Coverage {
			continue
		}
		if want := ma[i].Value * 2 / 4; math.Abs(mb[i].Value-want) > 1e-15 {
			t.Errorf("%s: %v with two hitless users, want %v", ma[i].Key(), mb[i].Value, want)
		}
	}
	// A user with no list or no relevant item is not counted at all.
	if b.Add(nil, []int32{1}, 1) || b.Add([]int32{1}, nil, 0) || b.Users() != 4 {
		t.Errorf("empty list or truth was counted")
	}
}

func metricOf(t *testing.T, ms []Metric, key string) float64 {
	t.Helper()
	for _, m := range ms {
		if m.Key() == key {
			return m.Value
		}
	}
	t.Fatalf("no metric %s", key)
	return 0
}

// TestPredictionTiesKeepFileOrder: equal scores rank in the predictions'
// order (pandas' stable sort in Recommenders), so swapping two tied rows
// changes which one is at rank 1.
func TestPredictionTiesKeepFileOrder(t *testing.T) {
	b := ratings.NewBuilder(false)
	b.Add("u", "b", 5, 0)
	test := b.Table()
	for _, tc := range []struct {
		order []string
		want  float64 // precision@1
	}{{[]string{"a", "b"}, 0}, {[]string{"b", "a"}, 1}} {
		p := NewPredictions("p")
		for _, it := range tc.order {
			p.Add("u", it, 1)
		}
		d, err := EvaluatePredictions(context.Background(), p, nil, test, Options{K: []int{1}, Metrics: []string{Precision}})
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Metrics[0].Value; got != tc.want {
			t.Errorf("order %v: precision@1 = %v, want %v", tc.order, got, tc.want)
		}
	}
}

// TestModelTiesLowerRowFirst: with every score equal, a model's top k is
// its first k unexcluded item rows (topk's tie rule), whatever the ids.
func TestModelTiesLowerRowFirst(t *testing.T) {
	m := &als.Model{Rank: 1, UserIDs: []string{"u"}, ItemIDs: []string{"z", "y", "x", "w"},
		UserFactors: []float32{1}, ItemFactors: []float32{2, 2, 2, 2}}
	tr := ratings.NewBuilder(false)
	tr.Add("u", "y", 4, 0)
	te := ratings.NewBuilder(false)
	te.Add("u", "x", 4, 0)
	d, err := EvaluateModel(context.Background(), m, tr.Table(), te.Table(), Options{K: []int{1, 2}, Metrics: []string{Precision}})
	if err != nil {
		t.Fatal(err)
	}
	// Ranking z, x (y excluded): x is at rank 2.
	if p1, p2 := metricOf(t, d.Metrics, "precision@1"), metricOf(t, d.Metrics, "precision@2"); p1 != 0 || p2 != 0.5 {
		t.Errorf("precision@1 %v @2 %v, want 0 and 0.5", p1, p2)
	}
}

// world is a random model with train and test tables whose dictionaries
// differ from the model's (ids are shuffled strings), with a few cold-start
// users and items in the test.
type world struct {
	m           *als.Model
	train, test *ratings.Table
}

func newWorld(seed uint64, users, items, rank int, intFactors bool) world {
	rng := rand.New(rand.NewPCG(seed, 9))
	m := &als.Model{Rank: rank, ID: "als-test", UserFactors: make([]float32, users*rank), ItemFactors: make([]float32, items*rank)}
	for u := 0; u < users; u++ {
		m.UserIDs = append(m.UserIDs, fmt.Sprintf("user%d", u))
	}
	for i := 0; i < items; i++ {
		m.ItemIDs = append(m.ItemIDs, fmt.Sprintf("item%d", i))
	}
	for _, f := range [][]float32{m.UserFactors, m.ItemFactors} {
		for j := range f {
			if intFactors {
				f[j] = float32(rng.IntN(3) - 1)
			} else {
				f[j] = float32(rng.NormFloat64() * 0.7)
			}
		}
	}
	tr, te := ratings.NewBuilder(false), ratings.NewBuilder(false)
	for _, u := range rng.Perm(users + 3) {
		for _, i := range rng.Perm(items + 2)[:items/3] {
			uid, iid := fmt.Sprintf("user%d", u), fmt.Sprintf("item%d", i)
			r := float32(1 + rng.IntN(5))
			switch {
			case u >= users || i >= items:
				te.Add(uid, iid, r, 0) // cold start
			case rng.IntN(4) == 0:
				te.Add(uid, iid, r, 0)
			default:
				tr.Add(uid, iid, r, 0)
			}
		}
	}
	return world{m: m, train: tr.Table(), test: te.Table()}
}

// allPairs returns the model's prediction for every (user, item), user by
// user and items in row order: as predictions, it ties like topk.
func allPairs(m *als.Model) *Predictions {
	p := NewPredictions("all pairs")
	for u := range m.UserIDs {
		for i := range m.ItemIDs {
			p.Add(m.UserIDs[u], m.ItemIDs[i], als.Dot(m.UserVec(u), m.ItemVec(i)))
		}
	}
	return p
}

// TestModelMatchesPredictions: evaluating a model gives the metrics of
// evaluating its full prediction matrix as a predictions file (a different
// code path: pandas-like stable sort instead of topk), on integer factors
// where ties abound.
func TestModelMatchesPredictions(t *testing.T) {
	ctx := context.Background()
	for _, intF := range []bool{true, false} {
		w := newWorld(5, 60, 90, 4, intF)
		thr := 3.0
		for _, opts := range []Options{
			{K: []int{1, 5, 20}},
			{K: []int{10}, IncludeSeen: true},
			{K: []int{7}, RelevanceThreshold: &thr, Threads: 1},
		} {
			dm, err := EvaluateModel(ctx, w.m, w.train, w.test, opts)
			if err != nil {
				t.Fatal(err)
			}
			dp, err := EvaluatePredictions(ctx, allPairs(w.m), w.train, w.test, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(dm.Metrics) != len(dp.Metrics) || len(dm.Metrics) != 4+6*len(opts.K) {
				t.Fatalf("%d and %d metrics", len(dm.Metrics), len(dp.Metrics))
			}
			for i, m := range dm.Metrics {
				if p := dp.Metrics[i]; p.Key() != m.Key() || math.Abs(p.Value-m.Value) > 1e-12 || p.N != m.N {
					t.Errorf("int=%v %+v: %s model %v (n %d), predictions %s %v (n %d)", intF, opts, m.Key(), m.Value, m.N, p.Key(), p.Value, p.N)
				}
			}
			if dm.Counts.ColdStartUsers != 3 || dm.Counts.ColdStartItems != 2 || dm.Counts.ColdStartRows == 0 {
				t.Errorf("cold start: %+v, want 3 users and 2 items", dm.Counts)
			}
			if dm.Counts.RankedUsers != dp.Counts.RankedUsers || dm.Counts.RelevantItems != dp.Counts.RelevantItems {
				t.Errorf("counts differ: model %+v, predictions %+v", dm.Counts, dp.Counts)
			}
		}
	}
}

// TestTopkFileRoundTrip: the lists topk computes, written as a recs top-k
// file and evaluated as predictions, give the model's ranking metrics.
func TestTopkFileRoundTrip(t *testing.T) {
	ctx := context.Background()
	w := newWorld(8, 50, 70, 5, false)
	ex := topk.NewExclusion(w.m, w.train)
	var lists []toplist.List
	err := topk.Each(ctx, w.m, topk.Options{K: 10, Exclude: ex}, func(u int32, items []int32, scores []float32) error {
		l := toplist.List{User: w.m.UserIDs[u]}
		for j, it := range items {
			l.Items = append(l.Items, toplist.Item{ID: w.m.ItemIDs[it], Score: scores[j]})
		}
		lists = append(lists, l)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/top.jsonl"
	if err := toplist.WriteFile(path, toplist.Meta{Model: w.m.ID, K: 10}, lists); err != nil {
		t.Fatal(err)
	}
	p, err := ReadPredictionsFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{K: []int{5, 10}, Metrics: RankingMetrics}
	dm, err := EvaluateModel(ctx, w.m, w.train, w.test, opts)
	if err != nil {
		t.Fatal(err)
	}
	dp, err := EvaluatePredictions(ctx, p, w.train, w.test, opts)
	if err != nil {
		t.Fatal(err)
	}
	if dp.Model == nil || dp.Model.ID != w.m.ID {
		t.Errorf("model id from the file header: %+v", dp.Model)
	}
	for i, m := range dm.Metrics {
		if d := math.Abs(dp.Metrics[i].Value - m.Value); d > 1e-12 {
			t.Errorf("%s: model %v, top-k file %v", m.Key(), m.Value, dp.Metrics[i].Value)
		}
	}
}

// TestThreadsDoNotChangeMetrics: bit-identical documents for 1 and 3
// scoring goroutines.
func TestThreadsDoNotChangeMetrics(t *testing.T) {
	w := newWorld(3, 300, 120, 8, false)
	var docs [][]byte
	for _, th := range []int{1, 3} {
		d, err := EvaluateModel(context.Background(), w.m, w.train, w.test, Options{K: []int{5, 10}, Threads: th})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := d.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b.Bytes())
	}
	if !bytes.Equal(docs[0], docs[1]) {
		t.Errorf("documents differ between 1 and 3 threads:\n%s\n%s", docs[0], docs[1])
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	w := newWorld(4, 20, 30, 3, false)
	other := func(prefix string) *ratings.Table {
		b := ratings.NewBuilder(false)
		b.Add(prefix+"1", prefix+"a", 3, 0)
		return b.Table()
	}
	empty := ratings.NewBuilder(false).Table()
	mixed := ratings.NewBuilder(false)
	mixed.Add("user1", "nothing", 4, 0) // user known, item not
	high := 99.0
	for _, tc := range []struct {
		name        string
		train, test *ratings.Table
		opts        Options
		input       bool   // an errs input error
		want        string // in the message
	}{
		{"empty test", w.train, empty, Options{}, true, "test set is empty"},
		{"test ids disjoint", w.train, other("x"), Options{}, true, "none of the 1 test users is in the model"},
		{"test items disjoint", w.train, mixed.Table(), Options{}, true, "none of the 1 test items"},
		{"train ids disjoint", other("y"), w.test, Options{}, true, "no training row"},
		{"k = 0", w.train, w.test, Options{K: []int{0}}, false, "k must be at least 1"},
		{"empty k", w.train, w.test, Options{K: []int{}}, false, "no k"},
		{"unknown metric", w.train, w.test, Options{Metrics: []string{"auc"}}, false, "unknown metric"},
		{"threshold above every rating", w.train, w.test, Options{RelevanceThreshold: &high}, true, "no test user known to the model has a relevant rating (ratings ≥ 99"},
		{"no train", nil, w.test, Options{}, false, "needs the training data"},
	} {
		_, err := EvaluateModel(ctx, w.m, tc.train, tc.test, tc.opts)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if errs.IsInput(err) != tc.input || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q (input %v), want input=%v containing %q", tc.name, err, errs.IsInput(err), tc.input, tc.want)
		}
	}
	// Predictions sharing no user with the test; a pair predicted twice.
	p := NewPredictions("p.csv")
	p.Add("nobody", "item1", 1)
	if _, err := EvaluatePredictions(ctx, p, nil, w.test, Options{}); err == nil || !strings.Contains(err.Error(), "no test user has a prediction") {
		t.Errorf("disjoint predictions: %v", err)
	}
	p.Add("nobody", "item1", 2)
	if _, err := EvaluatePredictions(ctx, p, nil, w.test, Options{}); err == nil || !strings.Contains(err.Error(), "predicted twice") {
		t.Errorf("duplicate prediction: %v", err)
	}
}

// TestNoNaN: a degenerate test set (one rating value, a model predicting
// it exactly) gives finite rating metrics (sklearn's force_finite rule).
func TestNoNaN(t *testing.T) {
	m := &als.Model{Rank: 1, UserIDs: []string{"u", "v"}, ItemIDs: []string{"a", "b"},
		UserFactors: []float32{1, 1}, ItemFactors: []float32{3, 3}}
	te := ratings.NewBuilder(false)
	te.Add("u", "a", 3, 0)
	te.Add("v", "b", 3, 0)
	d, err := EvaluateModel(context.Background(), m, nil, te.Table(), Options{IncludeSeen: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, mt := range d.Metrics {
		if math.IsNaN(mt.Value) || math.IsInf(mt.Value, 0) {
			t.Errorf("%s = %v", mt.Key(), mt.Value)
		}
	}
	if r2 := metricOf(t, d.Metrics, RSquared); r2 != 1 {
		t.Errorf("rsquared %v, want 1 (perfect predictions of a constant)", r2)
	}
}

func TestReadPredictions(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, in string
		rows     int
		err      string
	}{
		{"csv with header", "user,item,score\n1,2,0.5\n1,3,0.25\n", 2, ""},
		{"tsv no header, crlf, blank line", "1\t2\t0.5\r\n\n2\t2\t1e-3\r\n", 2, ""},
		{"extra fields", "1,2,0.5,ignored\n", 1, ""},
		{"bad score", "1,2,0.5\n1,3,abc\n", 0, "p:2: score \"abc\" is not a finite number"},
		{"nan", "1,2,NaN\n", 0, "p:1: score"},
		{"too few fields", "1,2\n", 0, "p:1: want user,item,score"},
		{"duplicate", "1,2,0.5\n1,3,1\n1,2,0.7\n", 0, "p:3: user \"1\" item \"2\" already predicted on line 1"},
	} {
		p, err := ReadPredictions(ctx, strings.NewReader(tc.in), "p")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errs.IsInput(err) {
				t.Errorf("%s: error %v, want input error %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || p.Len() != tc.rows {
			t.Errorf("%s: %v, %d rows, want %d", tc.name, err, p.Len(), tc.rows)
		}
	}
}

// TestDocumentJSON: the document round-trips, keeps its key order, and
// ReadDocument rejects other files.
func TestDocumentJSON(t *testing.T) {
	test, p := fixture()
	d, err := EvaluatePredictions(context.Background(), p, nil, test, Options{K: []int{10, 2}})
	if err != nil {
		t.Fatal(err)
	}
	d.Tool = "recs test"
	var b bytes.Buffer
	if err := d.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	order := []string{`"format"`, `"settings"`, `"counts"`, `"metrics": {`, `"rmse": {`, `"exp_var": {`, `"precision@2": {`, `"coverage@2": {`, `"precision@10": {`, `"coverage@10": {`}
	last := -1
	for _, key := range order {
		i := strings.Index(s, key)
		if i <= last {
			t.Fatalf("%s out of order in\n%s", key, s)
		}
		last = i
	}
	back, err := ReadDocument(strings.NewReader(s), "m.json")
	if err != nil {
		t.Fatal(err)
	}
	var b2 bytes.Buffer
	back.WriteJSON(&b2)
	if b2.String() != s {
		t.Errorf("round trip changed the document:\n%s\n%s", s, b2.String())
	}
	for _, bad := range []string{`{"format":"other","version":1}`, `{"format":"recs-metrics","version":9}`, `[1,2]`} {
		if _, err := ReadDocument(strings.NewReader(bad), "x.json"); !errs.IsInput(err) {
			t.Errorf("%s: %v, want an input error", bad, err)
		}
	}
}

func TestCompare(t *testing.T) {
	doc := func(vals map[string]float64) *Document {
		d := &Document{Format: FormatName, Version: FormatVersion}
		for k, v := range vals {
			name, kk, err := SplitKey(k)
			if err != nil {
				t.Fatal(err)
			}
			d.Metrics = append(d.Metrics, Metric{Name: name, K: kk, Value: v})
		}
		sortMetrics(d.Metrics)
		return d
	}
	base := doc(map[string]float64{"rmse": 0.95, "ndcg@10": 0.40, "precision@10": 0.30})
	cur := doc(map[string]float64{"rmse": 0.954, "ndcg@10": 0.385, "precision@10": 0.31})
	for _, tc := range []struct {
		allow     string // "" = nil allowances
		regressed []string
		missing   bool
	}{
		{"", []string{"ndcg@10", "rmse"}, false},                // nothing may worsen
		{"ndcg@10=0.01,rmse=0.005", []string{"ndcg@10"}, false}, // rmse +0.004 within 0.005
		{"ndcg@10=0.015,rmse=0.005", nil, false},                // exactly the allowance passes
		{"rmse=0.003", []string{"rmse"}, false},                 // ndcg not gated
		{"*=0.02", nil, false},                                  // default for all
		{"*=0.001,rmse=0.01", []string{"ndcg@10"}, false},       // named overrides star
		{"map@10=0.1", nil, true},                               // not in either document
	} {
		var allow []Allowance
		if tc.allow != "" {
			var err error
			if allow, err = ParseAllowances(tc.allow); err != nil {
				t.Fatal(err)
			}
		}
		c, err := Compare(base, cur, allow)
		var got []string
		for _, r := range c.Regressed() {
			got = append(got, r.Key)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.regressed) {
			t.Errorf("%q: regressed %v, want %v", tc.allow, got, tc.regressed)
		}
		switch {
		case tc.missing:
			if err == nil || errors.Is(err, errs.ErrRegression) {
				t.Errorf("%q: error %v, want a missing-metric error", tc.allow, err)
			}
		case len(tc.regressed) > 0:
			if !errors.Is(err, errs.ErrRegression) {
				t.Errorf("%q: error %v, want ErrRegression", tc.allow, err)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.allow, err)
		}
	}
	c, _ := Compare(base, cur, []Allowance{{Key: "ndcg@10", Max: 0.01}})
	var b bytes.Buffer
	c.WriteTable(&b)
	for _, want := range []string{"ndcg@10", "0.400000", "0.385000", "-0.015000", "REGRESSED (higher is better)", "not gated (lower is better)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	for _, bad := range []string{"ndcg=0.1", "rmse@5=0.1", "ndcg@10", "ndcg@10=-1", "auc=1", "rmse=1,rmse=2", ""} {
		if _, err := ParseAllowances(bad); err == nil {
			t.Errorf("ParseAllowances(%q): no error", bad)
		}
	}
}

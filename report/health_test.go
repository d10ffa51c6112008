package report

import (
	"math"
	"strings"
	"testing"

	"github.com/recs-dev/recs/rundir"
)

// hintsOf runs diagnose on d and returns "level:title" strings.
func hintsOf(d *data) []string {
	var out []string
	for _, h := range diagnose(d) {
		out = append(out, h.Level.String()+":"+h.Title)
	}
	return out
}

func has(t *testing.T, hs []string, want string) {
	t.Helper()
	for _, h := range hs {
		if h == want {
			return
		}
	}
	t.Errorf("hints %q lack %q", hs, want)
}

func iters(n int) []int {
	out := make([]int, n)
	for j := range out {
		out[j] = j + 1
	}
	return out
}

func TestLossHints(t *testing.T) {
	for _, c := range []struct {
		name string
		loss []float64
		want string
	}{
		// 1000 → 10: falls ≥ 1% each step (last: (20−10)/20 = 50%).
		{"falling", []float64{1000, 500, 100, 20, 10}, "info:Loss still falling"},
		// Last steps improve 0.05% < convergedTol: converged at iteration 4.
		{"converged", []float64{1000, 500, 400, 399.8, 399.6, 399.4}, "ok:Loss converged"},
		// Last step 0.5%: neither still falling (> 1%) nor converged (< 0.1%).
		{"decreasing", []float64{1000, 500, 400, 398}, "ok:Loss decreasing"},
		{"flat", []float64{1000, 1000}, "bad:Training loss did not decrease"},
		{"up", []float64{1000, 900, 1100}, "bad:Training loss did not decrease"},
		// 500 → 520 is +4% > lossRiseTol.
		{"bump", []float64{1000, 500, 520, 400}, "warn:Training loss rose"},
		{"nan", []float64{1000, math.NaN(), 500}, "bad:Training loss is not finite"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := &data{History: &history{Iter: iters(len(c.loss)), Loss: &series{Name: "loss", Lower: true, Values: c.loss}}}
			has(t, hintsOf(d), c.want)
		})
	}
}

func TestConvergedNamesIteration(t *testing.T) {
	// Improvements: 50%, 20%, 0.05% (< 0.1%) at iteration 4 → "from
	// iteration 4 on", so --max-iter 3 suffices.
	d := &data{History: &history{Iter: iters(6), Loss: &series{Values: []float64{1000, 500, 400, 399.8, 399.6, 399.4}}}}
	for _, h := range diagnose(d) {
		if h.Title == "Loss converged" {
			if !strings.Contains(h.Text, "from iteration 4 on") || !strings.Contains(h.Text, "--max-iter 3") {
				t.Errorf("converged text %q lacks the iteration", h.Text)
			}
			return
		}
	}
	t.Error("no converged hint")
}

func TestOverfitHints(t *testing.T) {
	// RMSE best 0.90 at iteration 3, final 0.95: (0.95−0.90)/0.90 = 5.6% > 1%.
	rmse := series{Name: "rmse", Lower: true, Values: []float64{1.0, 0.92, 0.90, 0.93, 0.95}}
	// NDCG best 0.40 at iteration 2, final 0.39: 2.5% worse.
	ndcg := series{Name: "ndcg@10", Values: []float64{0.30, 0.40, 0.395, 0.39}}
	// Within 1%: best 0.400, final 0.398 (0.5%).
	stable := series{Name: "ndcg@10", Values: []float64{0.30, 0.40, 0.398}}
	best := series{Name: "rmse", Lower: true, Values: []float64{1.0, 0.95, 0.91}}
	// The recs train run with implicit, λ = 20 (Spark weighting) on
	// ml-100k: NDCG@10 0.0035 at iteration 1, 0.0004 at 15 (−89%).
	fell := series{Name: "ndcg@10", Values: []float64{0.0035, 0.0007, 0.0005, 0.0004}}
	for _, c := range []struct {
		s    series
		want string
	}{
		{rmse, "warn:Validation RMSE got worse: overfitting"},
		{ndcg, "warn:Validation NDCG@10 got worse: overfitting"},
		{stable, "ok:Validation NDCG@10 stable"},
		{best, "ok:Validation RMSE best at the last iteration"},
		{fell, "bad:Validation NDCG@10 fell sharply during training"},
	} {
		d := &data{History: &history{Iter: iters(len(c.s.Values)), Val: []series{c.s}}}
		hs := diagnose(d)
		has(t, hintsOf(d), c.want)
		if c.s.Name == "rmse" && c.s.Values[2] == 0.90 {
			if !strings.Contains(hs[0].Text, "iteration 3 (0.9000)") || !strings.Contains(hs[0].Text, "5.6% worse") {
				t.Errorf("overfit text %q lacks best iteration or degradation", hs[0].Text)
			}
		}
	}
}

func TestPopHints(t *testing.T) {
	// 100 items with 100..1 training ratings; recommendations spread over
	// the first r items (one slot each, plus 1 000 more on item 0).
	mk := func(r int) *popularity {
		p := &popularity{Train: make([]int, 100), Recs: make([]int, 100), K: 10}
		for j := range p.Train {
			p.Train[j] = 100 - j
			p.TrainTotal += p.Train[j]
		}
		for j := 0; j < r; j++ {
			p.Recs[j]++
			p.Slots++
			p.Recommend++
		}
		p.Recs[0] += 1000
		p.Slots += 1000
		return p
	}
	has(t, hintsOf(&data{Pop: mk(4)}), "bad:Popularity collapse")     // 4% < 5%, lift ≫ 1.5
	has(t, hintsOf(&data{Pop: mk(8)}), "warn:Low catalogue coverage") // 8% < 10%
	has(t, hintsOf(&data{Pop: mk(50)}), "ok:Catalogue coverage")      // 50%

	// Lift: one slot on each of the 100 items (training counts 100..1,
	// mean 50.5) has lift 1; 900 more slots on item 99 (1 rating) pull it
	// to (5050 + 900)/1000 / 50.5 = 0.118 < 1.5.
	p := &popularity{Train: make([]int, 100), Recs: make([]int, 100), K: 10}
	for j := range p.Train {
		p.Train[j] = 100 - j
		p.TrainTotal += p.Train[j]
		p.Recs[j] = 1
	}
	p.Slots, p.Recommend = 100, 100
	if l := p.Lift(); math.Abs(l-1) > 1e-12 {
		t.Errorf("lift of one slot per item = %v, want 1", l)
	}
	p.Recs[99] += 900
	p.Slots += 900
	if l := p.Lift(); math.Abs(l-5950.0/1000/50.5) > 1e-12 {
		t.Errorf("lift = %v, want %v", l, 5950.0/1000/50.5)
	}
	has(t, hintsOf(&data{Pop: p}), "warn:Lists favour rarely rated items")
	// Low lift without rare items (every item has ≥ 5 ratings, lists on
	// the least rated): not called rare, the evidence would contradict it.
	q := &popularity{Train: make([]int, 100), Recs: make([]int, 100), K: 10}
	for j := range q.Train {
		q.Train[j] = 200 - j
		q.TrainTotal += q.Train[j]
	}
	q.Recs[90], q.Recs[99] = 500, 500
	q.Slots, q.Recommend = 1000, 2
	hs := hintsOf(&data{Pop: q})
	has(t, hs, "warn:Lists no more popular than random picks")
	for _, h := range hs {
		if strings.Contains(h, "rarely rated") {
			t.Errorf("lists without rare items called rare: %q", h)
		}
	}
	// The same lists on 3 of 100 items (coverage < 5%, lift < 1.5): a
	// collapse onto rare items, not a popularity collapse.
	p.Recs = make([]int, 100)
	p.Recs[97], p.Recs[98], p.Recs[99] = 10, 10, 10
	p.Slots, p.Recommend = 30, 3
	has(t, hintsOf(&data{Pop: p}), "bad:Lists collapse onto a few items")
	// Head-heavy lists (collapse case above: 1 004 slots, 1 000 on the
	// most-rated item) are not flagged as favouring rare items.
	for _, h := range hintsOf(&data{Pop: mk(4)}) {
		if strings.Contains(h, "rarely rated") {
			t.Errorf("popular lists flagged: %q", h)
		}
	}
}

func TestRMSEHint(t *testing.T) {
	rs := &ratingStats{Rows: 10, Std: 1.1, Counts: []int{5, 5}, Distinct: true}
	has(t, hintsOf(&data{Ratings: rs, Metrics: []metric{{Name: "rmse", Value: 1.2, Lower: true}}}), "bad:RMSE no better than the mean")
	has(t, hintsOf(&data{Ratings: rs, Metrics: []metric{{Name: "RMSE", Value: 0.9, Lower: true}}}), "ok:RMSE beats the mean predictor")
	imp := true
	for _, h := range hintsOf(&data{Ratings: rs, Model: &modelInfo{Implicit: &imp}, Metrics: []metric{{Name: "rmse", Value: 3.7, Lower: true}}}) {
		if strings.Contains(h, "RMSE") {
			t.Errorf("implicit model judged by RMSE: %q", h)
		}
	}
	one := &ratingStats{Rows: 10, Std: 0, Min: 1, Counts: []int{10}, Distinct: true}
	has(t, hintsOf(&data{Ratings: one, Metrics: []metric{{Name: "rmse", Value: 0.5}}}), "info:One rating value")
}

func TestRunHints(t *testing.T) {
	m := &rundir.Manifest{Status: "regression", ExitCode: 5,
		Gate:  &rundir.Gate{Baseline: "base.json", Passed: false, Failed: []string{"ndcg@10", "rmse"}},
		Split: rundir.SplitInfo{TestRows: 1000, ColdRows: 60}}
	hs := diagnose(&data{Manifest: m})
	got := hintsOf(&data{Manifest: m})
	has(t, got, "bad:Quality gate failed")
	for _, h := range got {
		if h == "bad:Run did not succeed" {
			t.Error("a regression run with a failed gate gets a second, redundant problem hint")
		}
	}
	failed := &rundir.Manifest{Status: "failed", ExitCode: 3, Error: "ratings.csv:7: rating \"x\" is not a number"}
	fh := diagnose(&data{Manifest: failed})
	if len(fh) != 1 || fh[0].Title != "Run did not succeed" || !strings.Contains(fh[0].Text, "ratings.csv:7") {
		t.Errorf("failed run: hints %+v, want one naming the error", fh)
	}
	has(t, got, "warn:Many cold-start test rows") // 6% > 5%
	if hs[0].Level != levelBad || hs[len(hs)-1].Level != levelWarn {
		t.Errorf("hints not ordered by severity: %q", got)
	}
	for _, h := range hs {
		if h.Title == "Quality gate failed" && !strings.Contains(h.Text, "ndcg@10, rmse") {
			t.Errorf("gate text %q does not name the metrics", h.Text)
		}
	}
	m.Split.ColdRows = 50 // exactly 5%: not above the threshold
	for _, h := range hintsOf(&data{Manifest: m}) {
		if strings.Contains(h, "cold-start") {
			t.Errorf("cold rows at 5%% flagged: %q", h)
		}
	}
}

func TestCurveHints(t *testing.T) {
	mk := func(p ...float64) *data {
		cv := &curve{K: iters(len(p)), Series: []series{{Name: "recall", Values: []float64{0, 0, 0}}, {Name: "precision", Values: p}}}
		return &data{Curves: cv}
	}
	// ML-100k explicit ALS, measured: precision@1 0.0075, @20 0.045.
	has(t, hintsOf(mk(0.0075, 0.02, 0.045)), "warn:Precision rises with k")
	for _, d := range []*data{mk(0.40, 0.35, 0.30), mk(0.2, 0.2, 0.2), mk(math.NaN(), 0.2, math.NaN())} {
		if hs := hintsOf(d); len(hs) != 0 {
			t.Errorf("precision %v: hints %q, want none", d.Curves.Series[1].Values, hs)
		}
	}
}

// TestWideSpan: a loss whose first iteration is 5× the last and an RMSE
// from 2.5 to 0.85 (2.9×) go on a log axis (logSpan 2); a curve within 2×
// and any higher-is-better series stay linear.
func TestWideSpan(t *testing.T) {
	for _, tc := range []struct {
		s    series
		want bool
	}{
		{series{Lower: true, Values: []float64{1e6, 2.1e5, 2e5}}, true},
		{series{Lower: true, Values: []float64{2.5, 0.9, 0.85}}, true},
		{series{Lower: true, Values: []float64{1.2, 0.9, 0.85}}, false},
		{series{Lower: false, Values: []float64{0.01, 0.4, 0.45}}, false},
		{series{Lower: true, Values: []float64{0, 5, 1}}, false},
	} {
		if got := wideSpan([]series{tc.s}); got != tc.want {
			t.Errorf("wideSpan(%v) = %v, want %v", tc.s.Values, got, tc.want)
		}
	}
}

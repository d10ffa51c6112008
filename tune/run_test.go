package tune

import (
	"context"
	"math"
	"reflect"
	"testing"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/ratings"
	"github.com/recs-dev/recs/synth"
)

func TestStopper(t *testing.T) {
	for _, tc := range []struct {
		name     string
		es       EarlyStop
		lower    bool
		curve    []float64
		stopAt   int // iteration observe returns true at; 0: never
		bestIter int
	}{
		// Peak at 3, then two iterations without improvement: stop at 5.
		{"patience 2", EarlyStop{Patience: 2}, false, []float64{.1, .2, .3, .29, .28, .5}, 5, 3},
		// Patience 0 never stops but still finds the best iteration.
		{"no patience", EarlyStop{}, false, []float64{.1, .3, .2, .1}, 0, 2},
		// An improvement of 0.005 < MinDelta 0.01 does not count.
		{"min delta", EarlyStop{Patience: 1, MinDelta: 0.01}, false, []float64{.1, .105, .2}, 2, 1},
		// Lower is better (rmse): 0.9 at 2 is the best; 0.95, 0.91 do not improve.
		{"lower", EarlyStop{Patience: 2}, true, []float64{1.0, 0.9, 0.95, 0.91, 0.5}, 4, 2},
		// The last iteration never reports a stop: the fit ends anyway.
		{"last", EarlyStop{Patience: 1}, false, []float64{.3, .2}, 0, 1},
	} {
		s := stopper{EarlyStop: tc.es, lower: tc.lower, maxIter: len(tc.curve)}
		stopAt := 0
		for i, v := range tc.curve {
			if s.observe(i+1, v) {
				stopAt = i + 1
				break
			}
		}
		if stopAt != tc.stopAt || s.bestIter != tc.bestIter || s.best != tc.curve[tc.bestIter-1] || s.stopped != (tc.stopAt > 0) {
			t.Errorf("%s: stopped at %d with best iteration %d (%v); want %d and %d", tc.name, stopAt, s.bestIter, s.best, tc.stopAt, tc.bestIter)
		}
	}
}

// smallData is a synthetic MovieLens-like table: 300 users, 400 items,
// 15,000 ratings with planted rank-8 structure.
func smallData(t *testing.T) *ratings.Table {
	t.Helper()
	tab, err := synth.Generate(context.Background(), synth.Config{Users: 300, Items: 400, Ratings: 15000, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// TestObjectiveEarlyStop checks the objective against the validation curve
// of a plain fit with the same seed: the best iteration and its value, and
// the iteration where patience 1 stops, follow from the curve.
func TestObjectiveEarlyStop(t *testing.T) {
	data := smallData(t)
	fit, valid, err := HoldoutSplit(data, Holdout{Ratio: 0.2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	p := DefaultParams()
	p.Implicit, p.Rank, p.Reg, p.Alpha, p.MaxIter, p.Solver, p.RegMode = true, 8, 5, 1, 12, "cg", "plain"
	var curve []float64
	if _, err := als.Fit(context.Background(), fit, p.ALS(7, 1), als.WithValidation(valid),
		als.WithCallback(func(it als.Iteration) error { curve = append(curve, it.Validation); return nil })); err != nil {
		t.Fatal(err)
	}
	for _, patience := range []int{0, 1, 2} {
		obj, err := NewObjective(fit, valid, "ndcg@10", 7, 2, EarlyStop{Patience: patience})
		if err != nil {
			t.Fatal(err)
		}
		out, err := obj(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		// Expected: replay the curve through the rule.
		s := stopper{EarlyStop: EarlyStop{Patience: patience}, maxIter: p.MaxIter}
		for i, v := range curve {
			if s.observe(i+1, v) {
				break
			}
		}
		// Threads 2 here, 1 for the curve: ALS factors do not depend on
		// threads, so the values agree exactly.
		if out.BestIter != s.bestIter || out.Metrics["ndcg@10"] != s.best || out.Iterations != s.iters || out.EarlyStopped != s.stopped {
			t.Errorf("patience %d: outcome %+v; from the curve %v: best %v at %d, %d iterations, stopped %v",
				patience, out, curve, s.best, s.bestIter, s.iters, s.stopped)
		}
	}
}

// TestRunSynthetic runs a small search end to end: a holdout of the data,
// per-iteration NDCG@10 for implicit trials, end-of-fit metrics from
// package eval for another metric, and results that do not depend on the
// number of parallel trials or ALS threads.
func TestRunSynthetic(t *testing.T) {
	data := smallData(t)
	space := mustSpace(t, "implicit: true\nreg_mode: plain\nsolver: cg\nrank: 8\nreg: [1, 10, 100]\nalpha: [0.5, 4]\nmax_iter: 8\n")
	run := func(parallel, threads int, metric string) Result {
		res, err := Run(context.Background(), data, space, Options{Strategy: Grid, Metric: metric, Seed: 9,
			Parallel: parallel, Threads: threads, Holdout: Holdout{Ratio: 0.2, Seed: 9}, EarlyStop: EarlyStop{Patience: 2}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b := run(1, 2, "ndcg@10"), run(2, 1, "ndcg@10")
	if len(a.Trials) != 6 {
		t.Fatalf("%d trials, want 6", len(a.Trials))
	}
	for i := range a.Trials {
		x, y := a.Trials[i], b.Trials[i]
		x.FitSeconds, y.FitSeconds = 0, 0
		if !reflect.DeepEqual(x, y) {
			t.Errorf("trial %d differs between 1×2 and 2×1 threads:\n%+v\n%+v", i+1, x, y)
		}
		if v := x.Metrics["ndcg@10"]; !(v > 0 && v <= 1) || x.BestIter < 1 || x.BestIter > x.Iterations || x.Iterations > 8 {
			t.Errorf("trial %d: implausible record %+v", x.ID, x)
		}
	}

	// precision@5 is measured once per trial by package eval, with its
	// companions at k = 5; no early stopping.
	c := run(2, 1, "precision@5")
	for _, r := range c.Trials {
		for _, key := range []string{"precision@5", "recall@5", "ndcg@5", "map@5", "map_at_k@5"} {
			if v, ok := r.Metrics[key]; !ok || v < 0 || v > 1 || math.IsNaN(v) {
				t.Errorf("trial %d: %s = %v (present %v)", r.ID, key, v, ok)
			}
		}
		if r.Iterations != 8 || r.BestIter != 8 || r.EarlyStopped {
			t.Errorf("trial %d: %d iterations, best %d, early %v; want 8, 8, false", r.ID, r.Iterations, r.BestIter, r.EarlyStopped)
		}
	}
}

package tune

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/eval"
	"github.com/recs-dev/recs/ingest"
	"github.com/recs-dev/recs/internal/testenv"
	"github.com/recs-dev/recs/split"
)

// TestML100kQuality checks the quality of `recs train --tune builtin`:
// MovieLens 100k split by the Microsoft Recommenders protocol (stratified
// by item, 75/25, seed 42); the default space searched on the train split
// alone (validation carved out of it) by successive halving with a budget
// of 100 fits; the winning configuration fitted on the whole train split
// and evaluated on the test split. The bar, NDCG@10 ≥ 0.47, is the level of
// the best models of the Recommenders comparison table on this protocol
// (BiVAE 0.475, BPR 0.442: recommenders-team/recommenders, README,
// "Algorithm Comparison"). The data comes from internal/testenv.
func TestML100kQuality(t *testing.T) {
	path := testenv.ML100K(t)
	if testing.Short() {
		t.Skip("a 100-trial search: not in -short")
	}
	ctx := context.Background()
	data, err := ingest.LoadTable(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := split.Stratified(data, []float64{0.75, 0.25}, 1, split.ByItem, 42)
	if err != nil {
		t.Fatal(err)
	}
	train, test := parts[0], parts[1]

	start := time.Now()
	res, err := Run(ctx, train, DefaultSpace(), Options{Strategy: Halving, Budget: 100, Seed: 42, Metric: "ndcg@10",
		Parallel: 2, Holdout: Holdout{Ratio: 0.2, Method: "stratified", By: "item", Seed: 42}, EarlyStop: EarlyStop{Patience: 2}})
	if err != nil {
		t.Fatal(err)
	}
	searchTime := time.Since(start)
	var lb strings.Builder
	res.WriteLeaderboard(&lb, 10, []string{"rank", "reg", "alpha"})
	t.Logf("search: %d trials in %.1fs (2 parallel trials)\n%s", len(res.Trials), searchTime.Seconds(), lb.String())

	best := res.Best.BestParams()
	m, err := als.Fit(ctx, train, best.ALS(42, 0))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := eval.EvaluateModel(ctx, m, train, test, eval.Options{K: []int{10}})
	if err != nil {
		t.Fatal(err)
	}
	ndcg, _ := doc.Metrics.Get("ndcg@10")
	prec, _ := doc.Metrics.Get("precision@10")
	mapk, _ := doc.Metrics.Get("map@10")
	t.Logf("best %s: validation ndcg@10 %.4f; test ndcg@10 %.4f precision@10 %.4f map %.4f; total %.1fs",
		best, res.Best.Metrics["ndcg@10"], ndcg.Value, prec.Value, mapk.Value, time.Since(start).Seconds())
	if len(res.Trials) > 100 {
		t.Errorf("%d trials, more than the budget of 100", len(res.Trials))
	}
	if ndcg.Value < 0.47 {
		t.Errorf("test ndcg@10 %.4f < 0.47", ndcg.Value)
	}
}

package tune

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/eval"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/ratings"
)

// EarlyStop ends a trial when its validation metric stops improving. The
// metric is measured after every iteration (als.WithValidation); the trial
// reports its best iteration whether or not it stops early.
type EarlyStop struct {
	// Patience is the number of iterations in a row without improvement
	// after which a trial stops; 0 never stops a trial early.
	Patience int
	// MinDelta is the smallest change of the metric that counts as an
	// improvement (0: any change in the right direction).
	MinDelta float64
}

// Holdout says how Run carves the validation set out of the training
// data when Options.Validation is nil.
type Holdout struct {
	Ratio  float64 `json:"ratio"`  // share of the training rows held out, in (0, 1)
	Method string  `json:"method"` // "stratified" (default), "chrono" or "random"
	By     string  `json:"by"`     // "item" (default) or "user": the groups of stratified and chrono
	Seed   int64   `json:"seed"`   // shuffles of random and stratified
}

// MetricsPerIteration lists the metrics Run measures after every
// iteration, and so can stop early on: als.WithValidation's NDCG@10 for
// implicit trials and RMSE for explicit ones. Other metrics (and these
// for trials of the other kind) are measured once, after the last
// iteration, by eval.EvaluateModel.
var MetricsPerIteration = []string{"ndcg@10", "rmse"}

// CheckMetric reports whether metric is a metric Run can optimise: a key
// of package eval, "name@k" for ranking metrics (precision, recall, ndcg,
// map, map_at_k, coverage) and the bare name for rating metrics (rmse,
// mae, rsquared, exp_var).
func CheckMetric(metric string) error {
	_, _, err := eval.SplitKey(metric)
	return err
}

// errEarlyStop ends a fit from the iteration callback.
var errEarlyStop = errors.New("tune: early stop")

// NewObjective returns the objective that fits ALS on fit and measures
// metric on valid, both by Microsoft Recommenders' definitions (package
// eval): ranking metrics over each validation user's items not in fit,
// every validation row relevant; rating metrics over the validation rows
// whose user and item have factors.
//
// ndcg@10 for implicit trials and rmse for explicit ones are measured after
// every iteration (als.WithValidation); the trial reports its best
// iteration and, with es.Patience > 0, stops after es.Patience iterations
// without improvement. Any other metric, or these for trials of the other
// kind, is measured after the last iteration with eval.EvaluateModel,
// together with its companions (every ranking metric at the same k, or
// every rating metric). seed seeds every trial's initial factors, so trials
// differ only in their parameters.
func NewObjective(fit, valid *ratings.Table, metric string, seed int64, threads int, es EarlyStop) (Objective, error) {
	_, k, err := eval.SplitKey(metric)
	if err != nil {
		return nil, fmt.Errorf("tune: %w", err)
	}
	if es.Patience < 0 || !(es.MinDelta >= 0) {
		return nil, fmt.Errorf("tune: early stopping patience %d, min delta %v: want both ≥ 0", es.Patience, es.MinDelta)
	}
	evalOpts := eval.Options{Metrics: eval.RatingMetrics, Threads: threads}
	if k > 0 {
		evalOpts = eval.Options{K: []int{k}, Metrics: eval.RankingMetrics, Threads: threads}
	}
	lower := LowerIsBetter(metric)
	return func(ctx context.Context, p Params) (Outcome, error) {
		if !(metric == "ndcg@10" && p.Implicit || metric == "rmse" && !p.Implicit) {
			m, err := als.Fit(ctx, fit, p.ALS(seed, threads))
			if err != nil {
				return Outcome{}, err
			}
			doc, err := eval.EvaluateModel(ctx, m, fit, valid, evalOpts)
			if err != nil {
				return Outcome{}, err
			}
			out := Outcome{Metrics: map[string]float64{}, Iterations: p.MaxIter, BestIter: p.MaxIter}
			for _, mt := range doc.Metrics {
				out.Metrics[mt.Key()] = mt.Value
			}
			return out, nil
		}
		st := stopper{EarlyStop: es, lower: lower, maxIter: p.MaxIter}
		cb := func(it als.Iteration) error {
			if math.IsNaN(it.Validation) {
				return fmt.Errorf("validation %s is NaN at iteration %d (no validation user or row has factors)", metric, it.Iter)
			}
			if st.observe(it.Iter, it.Validation) {
				return errEarlyStop
			}
			return nil
		}
		_, err := als.Fit(ctx, fit, p.ALS(seed, threads), als.WithValidation(valid), als.WithCallback(cb))
		if err != nil && !errors.Is(err, errEarlyStop) {
			return Outcome{}, err
		}
		return Outcome{Metrics: map[string]float64{metric: st.best}, Iterations: st.iters,
			BestIter: st.bestIter, EarlyStopped: st.stopped}, nil
	}, nil
}

// stopper follows a validation metric over the iterations of one fit.
type stopper struct {
	EarlyStop
	lower   bool // smaller is better
	maxIter int

	iters, bestIter, since int
	best                   float64
	stopped                bool
}

// observe records the metric v of iteration iter and reports whether the
// fit should stop: es.Patience iterations in a row have not improved on
// the best by more than MinDelta, and iterations remain.
func (s *stopper) observe(iter int, v float64) bool {
	s.iters = iter
	if s.bestIter == 0 || (!s.lower && v > s.best+s.MinDelta) || (s.lower && v < s.best-s.MinDelta) {
		s.best, s.bestIter, s.since = v, iter, 0
	} else {
		s.since++
	}
	s.stopped = s.Patience > 0 && s.since >= s.Patience && iter < s.maxIter
	return s.stopped
}

// Run searches space on train: it carves the validation set out of train
// (or uses opts.Validation), fits every trial with als.Fit on the rest, and
// returns the search's result. The test set is never an input.
func Run(ctx context.Context, train *ratings.Table, space Space, opts Options) (Result, error) {
	fit, valid := train, opts.Validation
	info := &ValidationInfo{Source: "given"}
	if valid == nil {
		var err error
		if fit, valid, err = HoldoutSplit(train, opts.Holdout); err != nil {
			return Result{}, err
		}
		h := opts.Holdout
		info = &ValidationInfo{Source: "holdout", Holdout: &h}
	}
	info.FitRows, info.ValidRows = fit.Len(), valid.Len()
	if fit.Len() == 0 || valid.Len() == 0 {
		return Result{}, fmt.Errorf("tune: the fitting part has %d rows and the validation part %d: both need some", fit.Len(), valid.Len())
	}
	if n := sharedRows(fit, valid); n == 0 {
		return Result{}, errs.Input("validation", errors.New("no validation row has a user and an item that occur in the fitting data: are they from the same data set?"))
	}
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = 1
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = max(1, runtime.GOMAXPROCS(0)/parallel)
	}
	obj, err := NewObjective(fit, valid, opts.Metric, opts.Seed, threads, opts.EarlyStop)
	if err != nil {
		return Result{}, err
	}
	opts.Identity = fmt.Sprintf("fit=%s valid=%s patience=%d min_delta=%g %s",
		als.TableHash(fit), als.TableHash(valid), opts.EarlyStop.Patience, opts.EarlyStop.MinDelta, opts.Identity)
	res, err := Search(ctx, space, obj, opts)
	res.Validation = info
	return res, err
}

// sharedRows counts the rows of valid whose user and item both occur in
// fit's rows, matched by original id. Cost O(rows + dictionaries).
func sharedRows(fit, valid *ratings.Table) int {
	known := func(fitIdx []int32, fitIDs, validIDs []string) []bool {
		used := make([]bool, len(fitIDs))
		for _, i := range fitIdx {
			used[i] = true
		}
		set := make(map[string]bool)
		for i, ok := range used {
			if ok {
				set[fitIDs[i]] = true
			}
		}
		out := make([]bool, len(validIDs))
		for i, id := range validIDs {
			out[i] = set[id]
		}
		return out
	}
	users := known(fit.Users, fit.UserIDs, valid.UserIDs)
	items := known(fit.Items, fit.ItemIDs, valid.ItemIDs)
	n := 0
	for r := range valid.Users {
		if users[valid.Users[r]] && items[valid.Items[r]] {
			n++
		}
	}
	return n
}

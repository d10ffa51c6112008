package tune

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"

	"github.com/recs-dev/recs/als"
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
	Ratio  float64 // share of the training rows held out, in (0, 1)
	Method string  // "stratified" (default), "chrono" or "random"
	By     string  // "user" (default) or "item": the groups of stratified and chrono
	Seed   int64   // shuffles of random and stratified
}

// MetricsPerIteration lists the metrics Run can measure after every
// iteration, and so stop early on: als.WithValidation's NDCG@10 for
// implicit trials and RMSE for explicit ones.
var MetricsPerIteration = []string{"ndcg@10", "rmse"}

// errEarlyStop ends a fit from the iteration callback.
var errEarlyStop = errors.New("tune: early stop")

// NewObjective returns the objective that fits ALS on fit and measures
// metric on valid after every iteration. metric is "ndcg@10" (Microsoft
// Recommenders' NDCG@10 over each validation user's items not in fit,
// every validation row relevant; implicit trials only) or "rmse" (over the
// validation rows whose user and item have factors; explicit trials only).
// A trial of the other kind fails. seed seeds every trial's initial
// factors, so trials differ only in their parameters.
func NewObjective(fit, valid *ratings.Table, metric string, seed int64, threads int, es EarlyStop) (Objective, error) {
	if metric != "ndcg@10" && metric != "rmse" {
		return nil, fmt.Errorf("tune: metric %q: want ndcg@10 (implicit feedback) or rmse (explicit ratings)", metric)
	}
	if es.Patience < 0 || !(es.MinDelta >= 0) {
		return nil, fmt.Errorf("tune: early stopping patience %d, min delta %v: want both ≥ 0", es.Patience, es.MinDelta)
	}
	lower := LowerIsBetter(metric)
	return func(ctx context.Context, p Params) (Outcome, error) {
		if (metric == "ndcg@10") != p.Implicit {
			kind := "explicit"
			if p.Implicit {
				kind = "implicit"
			}
			return Outcome{}, fmt.Errorf("metric %s is not measured for %s feedback", metric, kind)
		}
		var (
			out   Outcome
			best  float64
			since int
		)
		cb := func(it als.Iteration) error {
			out.Iterations = it.Iter
			v := it.Validation
			if math.IsNaN(v) {
				return fmt.Errorf("validation %s is NaN at iteration %d (no validation user or row has factors)", metric, it.Iter)
			}
			improved := out.BestIter == 0 || (!lower && v > best+es.MinDelta) || (lower && v < best-es.MinDelta)
			if improved {
				best, out.BestIter, since = v, it.Iter, 0
			} else {
				since++
			}
			if es.Patience > 0 && since >= es.Patience && it.Iter < p.MaxIter {
				out.EarlyStopped = true
				return errEarlyStop
			}
			return nil
		}
		_, err := als.Fit(ctx, fit, p.ALS(seed, threads), als.WithValidation(valid), als.WithCallback(cb))
		if err != nil && !errors.Is(err, errEarlyStop) {
			return Outcome{}, err
		}
		out.Metrics = map[string]float64{metric: best}
		return out, nil
	}, nil
}

// Run searches space on train: it carves the validation set out of train
// (or uses opts.Validation), fits every trial with als.Fit on the rest, and
// returns the search's result. The test set is never an input.
func Run(ctx context.Context, train *ratings.Table, space Space, opts Options) (Result, error) {
	fit, valid := train, opts.Validation
	if valid == nil {
		var err error
		if fit, valid, err = HoldoutSplit(train, opts.Holdout); err != nil {
			return Result{}, err
		}
	}
	if fit.Len() == 0 || valid.Len() == 0 {
		return Result{}, fmt.Errorf("tune: the fitting part has %d rows and the validation part %d: both need some", fit.Len(), valid.Len())
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
	return Search(ctx, space, obj, opts)
}

package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"

	"github.com/recs-dev/recs/internal/logfield"

	"github.com/recs-dev/recs/internal/atomicfile"
	"github.com/recs-dev/recs/tune"
)

// TuneDir is the run directory's folder for the search's results.
const TuneDir = "tune"

// tune searches the ALS parameters on the training split and replaces the
// als section of the configuration with the winner's. The trial table goes
// to tune/ in the run directory and a summary into the manifest.
func (r *run) tune(ctx context.Context) error {
	c := r.cfg.Tune
	space := tune.DefaultSpace()
	if c.Space != "builtin" {
		var err error
		if space, err = tune.LoadSpace(c.Space); err != nil {
			return err
		}
	}
	dir := r.path(TuneDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	opts := tune.Options{
		Strategy: tune.Strategy(c.Strategy), Budget: c.Budget, Seed: r.cfg.Split.Seed, Metric: c.Metric,
		Parallel: runtime.GOMAXPROCS(0), Journal: filepath.Join(dir, "trials.jsonl"),
		Holdout: tune.Holdout{Ratio: c.Holdout, Method: r.cfg.Split.Method, By: r.cfg.Split.By, Seed: r.cfg.Split.Seed},
	}
	bar := r.progress("tune", int64(max(c.Budget, 1)))
	opts.OnTrial = func(rec tune.Record, done, total int) {
		bar.Set(int64(done))
		args := []any{"id", rec.ID, "rung", rec.Rung, "params", rec.Params.String()}
		if rec.OK() {
			args = append(args, c.Metric, rec.Metrics[c.Metric], "best_iter", rec.BestIter)
		} else {
			args = append(args, "error", rec.Error)
		}
		r.log.Info("trial", append(args, "seconds", logfield.Round3(rec.FitSeconds), "done", done, "of", total)...)
	}
	res, err := tune.Run(ctx, r.train, space, opts)
	bar.Done()
	if err != nil {
		return err
	}
	for name, write := range map[string]func(f *atomicfile.File) error{
		"trials.csv":  func(f *atomicfile.File) error { return res.WriteCSV(f) },
		"trials.json": func(f *atomicfile.File) error { return res.WriteJSON(f) },
	} {
		f, err := atomicfile.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := write(f); err != nil {
			f.Abort()
			return err
		}
		if err := f.Commit(); err != nil {
			return err
		}
	}
	best := res.Best.BestParams()
	a := &r.cfg.ALS
	a.Rank, a.MaxIter, a.Reg, a.Implicit, a.Alpha = best.Rank, best.MaxIter, best.Reg, best.Implicit, best.Alpha
	a.Nonnegative, a.Solver, a.CGSteps = best.Nonnegative, best.Solver, best.CGSteps
	a.Biases, a.RegMode, a.RegExponent = best.Biases, best.RegMode, best.RegExponent
	sum, _ := json.Marshal(res.Summary())
	r.man.Tune = sum
	r.man.Files["tune"] = TuneDir
	r.log.Info("tuned", "trials", len(res.Trials), "best", best.String(), c.Metric, res.Best.Metrics[c.Metric])
	return nil
}

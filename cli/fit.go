package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/ingest"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/internal/logfield"
	"github.com/recs-dev/recs/internal/progress"
)

func init() { register("fit", newFitCmd) }

// fitOptions are the flags of `recs fit`.
type fitOptions struct {
	Train    string
	Output   string
	Validate string
	JSON     bool

	Params      als.Params
	coldStart   string
	solver      string
	regMode     string
	regExponent float64
}

func (o *fitOptions) addFlags(fs *pflag.FlagSet) {
	d := als.Default()
	fs.StringVarP(&o.Output, "output", "o", "", "model directory to write (Spark's ALSModel layout plus recs.json); required")
	fs.StringVar(&o.Validate, "validate", "", "ratings file to evaluate after every iteration: RMSE (explicit) or NDCG@10 over unseen items (implicit)")
	fs.BoolVar(&o.JSON, "json", false, "print the result as one JSON object")

	p := &o.Params
	fs.IntVar(&p.Rank, "rank", d.Rank, "factors per user and item (Spark's rank)")
	fs.IntVar(&p.MaxIter, "max-iter", d.MaxIter, "iterations, each solving the items and then the users (Spark's maxIter)")
	fs.Float64Var(&p.Reg, "reg", d.Reg, "regularisation λ (Spark's regParam), weighted by --reg-mode")
	fs.BoolVar(&p.Implicit, "implicit", d.Implicit, "implicit feedback: Hu/Koren/Volinsky with confidence 1 + α·|r| (Spark's implicitPrefs)")
	fs.Float64Var(&p.Alpha, "alpha", d.Alpha, "implicit confidence scale α (Spark's alpha)")
	fs.BoolVar(&p.Nonnegative, "nonnegative", d.Nonnegative, "constrain factors to be ≥ 0 (NNLS; Spark's nonnegative)")
	fs.Int64Var(&p.Seed, "seed", d.Seed, "seed of the initial factors; the same seed gives the same model")
	fs.StringVar(&o.coldStart, "cold-start", string(d.ColdStart), "Spark's coldStartStrategy recorded in the model: nan or drop")
	fs.IntVar(&p.Threads, "threads", 0, "worker goroutines (0: all cores); the model does not depend on it")
	fs.StringVar(&o.solver, "solver", string(d.Solver), "normal equations: cholesky (exact, Spark) or cg (conjugate gradient from the previous factors, benfred/implicit)")
	fs.IntVar(&p.CGSteps, "cg-steps", d.CGSteps, "conjugate-gradient steps per user and iteration (--solver cg)")
	fs.BoolVar(&p.Biases, "biases", false, "also learn a global mean and user and item biases (explicit only; not in Spark; folded into 2 extra factor columns)")
	fs.StringVar(&o.regMode, "reg-mode", string(d.RegMode), "regularisation weight: spark (λ·n_u), plain (λ, benfred/implicit) or frequency (λ·(n_u + N/(1+α))^ν, implicit, Rendle et al. 2022)")
	fs.Float64Var(&o.regExponent, "reg-exponent", 0, "ν of --reg-mode frequency, in [0, 1] (default 1)")
}

func newFitCmd(env *Env) *cobra.Command {
	opts := &fitOptions{}
	cmd := &cobra.Command{
		Use:   "fit TRAIN -o MODEL",
		Short: "Fit an ALS model (explicit like Spark MLlib, or implicit) and save it",
		Long: `Fit factors the ratings in TRAIN (any file 'recs ingest' reads, or its Parquet
output) by alternating least squares and writes the model to MODEL in the layout
of Spark's ALSModel.save (metadata/, userFactors/, itemFactors/), which Spark's
ALSModel.load reads, plus recs.json (parameters, training-data hash, per-iteration
history, original ids). The directory is written beside MODEL and renamed into
place: MODEL never holds a partial model.

Flags take Spark's names and defaults. Explicit ratings are Spark's ALS-WR: each
user solves (Y_Iᵀ Y_I + λ·n_u·I) x = Y_Iᵀ r, then each item likewise; every
iteration solves the items, then the users. Implicit feedback (--implicit) is
Hu/Koren/Volinsky with YᵀY formed once per half-iteration. With the same data,
flags and --seed the model is identical whatever --threads is.

On a terminal each iteration shows a progress bar and then a line with its loss
and validation metric; otherwise one log line per iteration (JSON with
--log-format json). The result (model id, sizes, final metrics) goes to stdout.`,
		Example: `  # Spark's setting of the Microsoft Recommenders benchmark
  recs fit split/train.parquet -o model/ --rank 10 --reg 0.05 --max-iter 15 --validate split/test.parquet

  # implicit feedback, benfred/implicit style: plain λ, conjugate gradient
  recs fit train.parquet -o model/ --implicit --rank 64 --alpha 2 --reg 50 --reg-mode plain --solver cg --max-iter 15`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Train = args[0]
			if err := opts.validate(); err != nil {
				return err
			}
			return runFit(cmd.Context(), env, opts)
		},
	}
	opts.addFlags(cmd.Flags())
	return cmd
}

// validate checks the flags and completes opts.Params.
func (o *fitOptions) validate() error {
	if o.Output == "" {
		return usagef("--output (-o) MODEL is required")
	}
	if o.Train == "" {
		return usagef("TRAIN must not be empty")
	}
	o.Params.ColdStart = als.ColdStart(o.coldStart)
	o.Params.Solver = als.Solver(o.solver)
	o.Params.RegMode = als.RegMode(o.regMode)
	o.Params.RegExponent = o.regExponent
	if err := o.Params.Validate(); err != nil {
		return usageError{err}
	}
	return nil
}

// fitResult is what `recs fit` prints.
type fitResult struct {
	Model      string  `json:"model"`
	ID         string  `json:"id"`
	Users      int     `json:"users"`
	Items      int     `json:"items"`
	Rank       int     `json:"rank"`
	Iterations int     `json:"iterations"`
	Loss       float64 `json:"loss,omitempty"`
	TrainRMSE  float64 `json:"trainRmse,omitempty"`
	Metric     string  `json:"metric,omitempty"`
	Validation float64 `json:"validation,omitempty"`
	Seconds    float64 `json:"seconds"` // fit time, loading and saving excluded
}

func runFit(ctx context.Context, env *Env, opts *fitOptions) error {
	p := opts.Params
	t0 := time.Now()
	train, err := ingest.LoadTable(ctx, opts.Train)
	if err != nil {
		return err
	}
	train.Times = nil // not used by the fit: give the memory back
	env.Log.Info("loaded training data", "file", opts.Train, "ratings", train.Len(),
		"users", train.NumUsers(), "items", train.NumItems(), "seconds", time.Since(t0).Seconds())
	var fitOpts []als.Option
	if opts.Validate != "" {
		valid, err := ingest.LoadTable(ctx, opts.Validate)
		if err != nil {
			return err
		}
		valid.Times = nil
		fitOpts = append(fitOpts, als.WithValidation(valid))
	}
	runtime.GC()
	debug.FreeOSMemory()

	pr := newFitProgress(env, p.MaxIter)
	pr.total = train.ActiveUsers() + train.ActiveItems()
	fitOpts = append(fitOpts, als.WithCallback(pr.iteration), als.WithProgress(pr.progress))
	env.Log.Info("fitting", "rank", p.Rank, "max_iter", p.MaxIter, "reg", p.Reg, "implicit", p.Implicit,
		"alpha", p.Alpha, "solver", p.Solver, "threads", p.Threads, "kernels", als.Kernels())
	start := time.Now()
	pr.start(1)
	m, err := als.Fit(ctx, train, p, fitOpts...)
	pr.stop()
	if err != nil {
		switch {
		case errors.Is(err, als.ErrNoRatings):
			return errs.Input(opts.Train, err)
		case errors.Is(err, als.ErrNoValidation):
			return errs.Input(opts.Validate, err)
		}
		return err
	}
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := als.Save(opts.Output, m); err != nil {
		return err
	}
	env.Log.Info("model saved", "dir", opts.Output, "id", m.ID)

	res := fitResult{Model: opts.Output, ID: m.ID, Users: len(m.UserIDs), Items: len(m.ItemIDs), Rank: m.Rank,
		Iterations: len(m.History), Seconds: elapsed.Seconds()}
	if n := len(m.History); n > 0 {
		last := m.History[n-1]
		res.Loss, res.TrainRMSE, res.Metric, res.Validation = last.Loss, last.TrainRMSE, last.Metric, last.Validation
	}
	if opts.JSON {
		return json.NewEncoder(env.Out).Encode(res)
	}
	fmt.Fprintf(env.Out, "model %s (%s): %d users, %d items, rank %d, %d iterations in %.2fs\n",
		res.Model, res.ID, res.Users, res.Items, res.Rank, res.Iterations, res.Seconds)
	if res.Iterations > 0 {
		fmt.Fprintf(env.Out, "loss %.6g", res.Loss)
		if !p.Implicit {
			fmt.Fprintf(env.Out, "  train RMSE %.4f", res.TrainRMSE)
		}
		if res.Metric != "" {
			fmt.Fprintf(env.Out, "  validation %s %.4f", res.Metric, res.Validation)
		}
		fmt.Fprintln(env.Out)
	}
	return nil
}

// fitProgress shows the fit: on a terminal, a bar per iteration (users and
// items solved) followed by a summary line; otherwise a log line per
// iteration.
type fitProgress struct {
	env     *Env
	maxIter int
	bars    bool
	bar     atomic.Pointer[progress.Reporter]
	total   int
}

func newFitProgress(env *Env, maxIter int) *fitProgress {
	return &fitProgress{env: env, maxIter: maxIter, bars: env.ErrIsTTY && !env.Quiet && env.LogFormat != "json"}
}

func (f *fitProgress) start(iter int) {
	if !f.bars || iter > f.maxIter {
		return
	}
	r := f.env.Progress(fmt.Sprintf("iteration %d/%d", iter, f.maxIter), int64(f.total))
	f.bar.Store(r)
}

func (f *fitProgress) stop() {
	if r := f.bar.Swap(nil); r != nil {
		r.Done()
	}
}

// progress is called by the workers as pieces finish.
func (f *fitProgress) progress(iter, done, total int) {
	if r := f.bar.Load(); r != nil {
		r.Set(int64(done))
	}
}

// iteration is called after each iteration, from Fit's goroutine.
func (f *fitProgress) iteration(it als.Iteration) error {
	attrs := []any{"iter", it.Iter, "of", f.maxIter, "loss", logfield.Sig(it.Loss), "seconds", logfield.Round3(it.Duration.Seconds())}
	if it.TrainRMSE > 0 {
		attrs = append(attrs, "train_rmse", it.TrainRMSE)
	}
	if it.Metric != "" {
		attrs = append(attrs, "metric", it.Metric, "validation", it.Validation)
	}
	if !f.bars {
		f.env.Log.Info("iteration", attrs...)
		return nil
	}
	f.stop()
	line := fmt.Sprintf("iteration %d/%d  loss %.6g", it.Iter, f.maxIter, it.Loss)
	if it.TrainRMSE > 0 {
		line += fmt.Sprintf("  train RMSE %.4f", it.TrainRMSE)
	}
	if it.Metric != "" {
		line += fmt.Sprintf("  validation %s %.4f", it.Metric, it.Validation)
	}
	fmt.Fprintf(f.env.Err, "%s  %.2fs\n", line, it.Duration.Seconds())
	f.start(it.Iter + 1)
	return nil
}

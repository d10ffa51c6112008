package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/recs-dev/recs/internal/logfield"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/recs-dev/recs/ingest"
	"github.com/recs-dev/recs/internal/atomicfile"
	"github.com/recs-dev/recs/internal/progress"
	"github.com/recs-dev/recs/pipeline"
	"github.com/recs-dev/recs/split"
	"github.com/recs-dev/recs/tune"
)

func init() { register("tune", newTuneCmd) }

// Files of a tune output directory.
const (
	tuneJournal = "trials.jsonl"
	tuneCSV     = "trials.csv"
	tuneJSON    = "trials.json"
	tuneBest    = "best.yaml"
)

// tuneOptions are the flags of `recs tune`.
type tuneOptions struct {
	Train      string
	Validation string
	Holdout    float64
	Method     string
	By         string
	Space      string
	PrintSpace bool
	Metric     string
	Strategy   string
	Budget     int
	Seed       int64
	Parallel   int
	Threads    int
	Eta        int
	Rungs      int
	Patience   int
	MinDelta   float64
	Out        string
	Restart    bool
	Top        int
	JSON       bool
}

func (o *tuneOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Train, "train", "", "training ratings (Parquet or text): the search sees only these")
	fs.StringVar(&o.Validation, "validation", "", "validation ratings; default: carve --holdout out of --train")
	fs.Float64Var(&o.Holdout, "holdout", 0.2, "share of --train held out for validation (without --validation)")
	fs.StringVar(&o.Method, "holdout-method", "stratified", "how the holdout is drawn: stratified, chrono or random")
	fs.StringVar(&o.By, "holdout-by", "item", "groups of stratified and chrono holdouts: item (as the Recommenders test split) or user")
	fs.StringVar(&o.Space, "space", "", "search space YAML (default: the built-in space, see --print-space)")
	fs.BoolVar(&o.PrintSpace, "print-space", false, "print the built-in search space and exit")
	fs.StringVar(&o.Metric, "metric", "ndcg@10", "validation metric to optimise: ndcg@K, precision@K, recall@K, map@K, map_at_k@K, rmse, mae, ...")
	fs.StringVar(&o.Strategy, "strategy", "halving", "search strategy: grid, random or halving (successive halving)")
	fs.IntVar(&o.Budget, "budget", 100, "most trials (ALS fits); grid: 0 means the whole grid")
	fs.Int64Var(&o.Seed, "seed", 42, "seed of the random draws, the holdout and every trial's initial factors")
	fs.IntVar(&o.Parallel, "parallel", 0, "trials fitted at once (default: the number of cores)")
	fs.IntVar(&o.Threads, "threads", 0, "ALS goroutines per trial (default: cores / --parallel, at least 1)")
	fs.IntVar(&o.Eta, "eta", 3, "successive halving: keep the best 1/eta of each rung, with eta times the iterations")
	fs.IntVar(&o.Rungs, "rungs", 3, "successive halving: number of rungs")
	fs.IntVar(&o.Patience, "patience", 2, "stop a trial after this many iterations without improvement (0: never)")
	fs.Float64Var(&o.MinDelta, "min-delta", 0, "smallest change of the metric that counts as an improvement")
	fs.StringVarP(&o.Out, "output", "o", "", "output directory: "+tuneJournal+", "+tuneCSV+", "+tuneJSON+", "+tuneBest+" (required)")
	fs.BoolVar(&o.Restart, "restart", false, "discard the trials of an earlier search in the output directory")
	fs.IntVar(&o.Top, "top", 10, "rows of the leaderboard printed (0: all)")
	fs.BoolVar(&o.JSON, "json", false, "print the best trial and the files written as JSON instead of the leaderboard")
}

func newTuneCmd(env *Env) *cobra.Command {
	opts := &tuneOptions{}
	cmd := &cobra.Command{
		Use:   "tune --train TRAIN -o DIR",
		Short: "Search ALS hyperparameters on a validation split of the training data",
		Long: `Search ALS hyperparameters (rank, reg, alpha, iterations, implicit or
explicit feedback, biases, regularisation scaling, solver) and write the best
configuration as the als: section of a 'recs train --config' file.

Validation: --validation VALID, or --holdout (default 0.2) of TRAIN drawn with
--holdout-method (stratified per --holdout-by group, as Microsoft Recommenders'
python_stratified_split; chrono: each group's latest rows; random). The test
split is never an input: give tune the train split only.

Strategies: grid (every combination of the lists; ranges need steps), random
(--budget points drawn with --seed), and halving — successive halving: random
configurations first run 1/eta^(rungs−1) of their iterations, the best 1/eta
continue with eta times as many, and so on over --rungs rungs; --budget counts
every fit of every rung.

Metrics are Microsoft Recommenders' (see 'recs eval'): ranking over each
validation user's items not in the fitting part, every validation row
relevant. ndcg@10 for implicit trials and rmse for explicit ones are measured
after every iteration: a trial stops after --patience iterations without
improvement and reports its best iteration, which becomes the winning
configuration's max_iter. Other metrics are measured once, after the last
iteration.

Cores: --parallel trials run at once, each ALS (and its per-iteration
validation) with --threads goroutines. The defaults — as many trials as cores,
one goroutine each — keep trials × threads ≤ cores, so no trial waits on
another for a core and none synchronises threads inside small fits; give
fewer, wider trials (--parallel 1 --threads 0) when one fit's memory is large.
Results do not depend on either flag.

Output directory: trials.jsonl is the journal, one line per finished trial
appended and synced as it completes. Run the same command again after an
interruption (or a crash) and the trials already in the journal are not fitted
again; --restart discards them. A random search run again with a larger
--budget keeps its trials and adds the new draws. trials.csv and trials.json
(one row per trial: parameters, metrics, iterations, best iteration, fit
seconds) and best.yaml are written atomically at the end; the leaderboard goes
to stdout.

Search space file (--space): each key is a parameter — implicit, rank, reg,
alpha, max_iter, nonnegative, solver, cg_steps, biases, reg_mode,
reg_exponent — and its value a fixed value, a list, or a range
{min, max, log, steps}. Combinations ALS rejects (biases with implicit
feedback, reg_mode frequency with explicit ratings, ...) are skipped. Without
--space, the built-in space searches implicit ALS with a plain λ and the CG
solver: rank 32/64/128, reg log-uniform in [2, 300], alpha log-uniform in
[0.1, 20], 15 iterations (--print-space shows it with its rationale).`,
		Example: `  recs split ratings.parquet -o split/ --method stratified --by item
  recs tune --train split/train.parquet -o tune/
  recs train --config tune/best.yaml ratings.parquet
  recs tune --train split/train.parquet --space space.yaml --strategy random --budget 60 -o tune/
  recs tune --train train.parquet --validation valid.parquet --metric rmse --space explicit.yaml -o tune/
  recs tune --print-space > space.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.PrintSpace {
				_, err := env.Out.Write(tune.DefaultSpaceYAML)
				return err
			}
			if err := opts.validate(cmd.Flags()); err != nil {
				return err
			}
			return runTune(cmd.Context(), env, opts)
		},
	}
	opts.addFlags(cmd.Flags())
	return cmd
}

func (o *tuneOptions) validate(fs *pflag.FlagSet) error {
	switch {
	case o.Train == "":
		return usagef("--train is required")
	case o.Out == "":
		return usagef("--output (-o) is required: the directory keeps the trials, so an interrupted search can resume")
	case o.Validation != "" && (fs.Changed("holdout") || fs.Changed("holdout-method") || fs.Changed("holdout-by")):
		return usagef("--validation and --holdout* exclude each other")
	case !(o.Holdout > 0 && o.Holdout < 1):
		return usagef("--holdout %v: want a share in (0, 1)", o.Holdout)
	case o.Budget < 0:
		return usagef("--budget %d: want ≥ 0", o.Budget)
	case o.Parallel < 0 || o.Threads < 0:
		return usagef("--parallel and --threads must be ≥ 0")
	case o.Eta < 2:
		return usagef("--eta %d: want ≥ 2", o.Eta)
	case o.Rungs < 1:
		return usagef("--rungs %d: want ≥ 1", o.Rungs)
	case o.Patience < 0 || !(o.MinDelta >= 0):
		return usagef("--patience and --min-delta must be ≥ 0")
	}
	if !slices.Contains(split.RatioMethods, o.Method) {
		return usagef("--holdout-method %q: want stratified, chrono or random", o.Method)
	}
	if o.By != "user" && o.By != "item" {
		return usagef("--holdout-by %q: want user or item", o.By)
	}
	switch tune.Strategy(o.Strategy) {
	case tune.Grid:
	case tune.Random, tune.Halving:
		if o.Budget < 1 {
			return usagef("--budget %d: %s search needs at least 1 trial", o.Budget, o.Strategy)
		}
	default:
		return usagef("--strategy %q: want grid, random or halving", o.Strategy)
	}
	if err := tune.CheckMetric(o.Metric); err != nil {
		return usagef("--metric: %v", err)
	}
	return nil
}

func runTune(ctx context.Context, env *Env, o *tuneOptions) error {
	space := tune.DefaultSpace()
	spaceName := "built-in"
	if o.Space != "" {
		var err error
		if space, err = tune.LoadSpace(o.Space); err != nil {
			return err
		}
		spaceName = o.Space
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return err
	}
	journal := filepath.Join(o.Out, tuneJournal)
	if o.Restart {
		if err := os.Remove(journal); err != nil && !os.IsNotExist(err) {
			return err
		}
	}

	train, err := ingest.LoadTable(ctx, o.Train)
	if err != nil {
		return err
	}
	opts := tune.Options{
		Strategy: tune.Strategy(o.Strategy), Budget: o.Budget, Seed: o.Seed, Metric: o.Metric,
		Parallel: o.Parallel, Threads: o.Threads, Eta: o.Eta, Rungs: o.Rungs, Journal: journal,
		Holdout:   tune.Holdout{Ratio: o.Holdout, Method: o.Method, By: o.By, Seed: o.Seed},
		EarlyStop: tune.EarlyStop{Patience: o.Patience, MinDelta: o.MinDelta},
	}
	if opts.Parallel == 0 {
		opts.Parallel = runtime.GOMAXPROCS(0)
	}
	if o.Validation != "" {
		if opts.Validation, err = ingest.LoadTable(ctx, o.Validation); err != nil {
			return err
		}
	}
	env.Log.Info("tune", "train", o.Train, "rows", train.Len(), "space", spaceName, "strategy", o.Strategy,
		"budget", o.Budget, "metric", o.Metric, "parallel", opts.Parallel)

	bar := env.Progress("tune", int64(max(o.Budget, 1)))
	varying := space.Varying()
	opts.OnTrial = o.onTrial(env, bar, varying)
	res, err := tune.Run(ctx, train, space, opts)
	bar.Done()
	if err != nil {
		if errors.Is(err, tune.ErrJournalMismatch) {
			return usagef("%v (or add --restart)", err)
		}
		if ctx.Err() != nil {
			env.Log.Warn("interrupted: finished trials are kept; run the same command again to resume", "journal", journal)
		}
		return err
	}
	if res.Resumed > 0 {
		env.Log.Info("resumed", "trials_from_journal", res.Resumed)
	}

	best, err := bestConfig(res, spaceName)
	if err != nil {
		return err
	}
	files, err := o.writeResults(res, journal, best)
	if err != nil {
		return err
	}
	if o.JSON {
		return json.NewEncoder(env.Out).Encode(struct {
			tune.Summary
			Files map[string]string `json:"files"`
		}{res.Summary(), files})
	}
	if err := res.WriteLeaderboard(env.Out, o.Top, varying); err != nil {
		return err
	}
	fmt.Fprintf(env.Out, "\nbest: trial %d, validation %s %.4f at iteration %d (%d trials)\nwrote %s\n",
		res.Best.ID, o.Metric, res.Best.Metrics[o.Metric], res.Best.BestIter, len(res.Trials), files["best"])
	return nil
}

// onTrial returns the callback that advances the progress bar with each
// finished trial and, when stderr is not a terminal, logs the trial.
func (o *tuneOptions) onTrial(env *Env, bar *progress.Reporter, varying []string) func(tune.Record, int, int) {
	return func(r tune.Record, done, total int) {
		bar.SetTotal(int64(total))
		bar.Set(int64(done))
		if env.ErrIsTTY {
			return
		}
		args := []any{"id", r.ID, "rung", r.Rung}
		for _, name := range varying {
			args = append(args, name, r.Params.Get(name))
		}
		if r.OK() {
			args = append(args, o.Metric, r.Metrics[o.Metric], "best_iter", r.BestIter)
		} else {
			args = append(args, "error", r.Error)
		}
		env.Log.Info("trial", append(args, "seconds", logfield.Round3(r.FitSeconds), "done", done, "of", total)...)
	}
}

// writeResults writes the trial table (CSV and JSON) and best.yaml into
// the output directory and returns the files by kind, journal included.
func (o *tuneOptions) writeResults(res tune.Result, journal string, best []byte) (map[string]string, error) {
	files := map[string]string{
		"journal": journal,
		"csv":     filepath.Join(o.Out, tuneCSV),
		"json":    filepath.Join(o.Out, tuneJSON),
		"best":    filepath.Join(o.Out, tuneBest),
	}
	if err := atomicfile.WriteFile(files["csv"], res.WriteCSV); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(files["json"], res.WriteJSON); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(files["best"], func(w io.Writer) error { _, err := w.Write(best); return err }); err != nil {
		return nil, err
	}
	return files, nil
}

// bestConfig returns the winning configuration as a `recs train --config`
// file, after checking that recs train reads it back to the same values.
func bestConfig(res tune.Result, spaceName string) ([]byte, error) {
	p := res.Best.BestParams()
	var b bytes.Buffer
	fmt.Fprintf(&b, "# recs tune: the best of %d trials by validation %s = %.6g\n", len(res.Trials), res.Metric, res.Best.Metrics[res.Metric])
	fmt.Fprintf(&b, "# (trial %d, best iteration %d of %d); strategy %s, budget %d, seed %d, space %s.\n",
		res.Best.ID, res.Best.BestIter, res.Best.Iterations, res.Strategy, res.Budget, res.Seed, spaceName)
	fmt.Fprintf(&b, "# Use with: recs train --config THIS_FILE ...\n")
	b.Write(p.ConfigYAML(res.Seed))

	cfg := pipeline.Defaults()
	dec := yaml.NewDecoder(bytes.NewReader(b.Bytes()))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("the winning configuration uses a setting recs train does not read (%v); its parameters: %s",
			strings.TrimPrefix(err.Error(), "yaml: "), p)
	}
	a := cfg.ALS
	regMode := a.RegMode
	if regMode == "" {
		regMode = tune.DefaultParams().RegMode
	}
	if a.Rank != p.Rank || a.MaxIter != p.MaxIter || a.Reg != p.Reg || a.Implicit != p.Implicit || a.Alpha != p.Alpha ||
		a.Nonnegative != p.Nonnegative || a.Solver != p.Solver || a.CGSteps != p.CGSteps || a.Seed != res.Seed ||
		a.Biases != p.Biases || regMode != p.RegMode || a.RegExponent != p.RegExponent {
		return nil, fmt.Errorf("the winning configuration does not read back: wrote %s, read %+v", p, a)
	}
	return b.Bytes(), nil
}

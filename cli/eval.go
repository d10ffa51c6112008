package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/eval"
	"github.com/recs-dev/recs/ingest"
	"github.com/recs-dev/recs/internal/atomicfile"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/ratings"
)

func init() { register("eval", newEvalCmd) }

// evalOptions are the flags of `recs eval`.
type evalOptions struct {
	Model         string
	Predictions   string
	Train         string
	Test          string
	K             string
	Metrics       string
	IncludeSeen   bool
	Threshold     float64
	hasThreshold  bool
	JSON          string
	Baseline      string
	MaxRegression string
	Threads       int

	ks    []int
	names []string
	allow []eval.Allowance
}

func (o *evalOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Model, "model", "", "model directory written by 'recs fit' or Spark's ALSModel.save: a path, a Blob URL (https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH[?SAS]) or abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH")
	fs.StringVar(&o.Predictions, "predictions", "", "judge these predictions instead of a model: a recs top-k file (.jsonl, .jsonl.gz, .parquet) or user,item,score rows (CSV or TSV)")
	fs.StringVar(&o.Train, "train", "", "training ratings: their items are not candidates for the user (required with --model unless --include-seen)")
	fs.StringVar(&o.Test, "test", "", "held-out ratings to evaluate against (required)")
	fs.StringVar(&o.K, "k", "10", "list length of the ranking metrics; several as 5,10,20")
	fs.StringVar(&o.Metrics, "metrics", "", "metrics to compute, comma-separated (default all): rmse, mae, rsquared, exp_var, precision, recall, ndcg, map, map_at_k, coverage")
	fs.BoolVar(&o.IncludeSeen, "include-seen", false, "keep the items a user rated in TRAIN among the candidates (as Spark's recommendForAllUsers)")
	fs.Float64Var(&o.Threshold, "relevance-threshold", 0, "only test ratings ≥ this are relevant for the ranking metrics (default: every test rating)")
	fs.StringVar(&o.JSON, "json", "", "write the metrics document to FILE (atomically), or to stdout with -")
	fs.StringVar(&o.Baseline, "baseline", "", "metrics document to compare with; exit 5 if a metric is worse than --max-regression allows")
	fs.StringVar(&o.MaxRegression, "max-regression", "", "allowed worsening per metric, e.g. ndcg@10=0.01,rmse=0.005; *=X for every other metric (default with --baseline: nothing may get worse)")
	fs.IntVar(&o.Threads, "threads", 0, "scoring goroutines (0: all cores); the metrics do not depend on it")
}

func newEvalCmd(env *Env) *cobra.Command {
	o := &evalOptions{}
	cmd := &cobra.Command{
		Use:   "eval (--model MODEL | --predictions FILE) --test TEST [--train TRAIN]",
		Short: "Measure a model or predictions with Microsoft Recommenders' metrics",
		Long: `Eval measures a model (or predictions made by any recommender) against held-out
ratings with the metrics of Microsoft Recommenders' python_evaluation, computed
exactly as it does:

  rating   rmse, mae, rsquared, exp_var over the test rows that have a prediction
           (inner join on user and item; cold-start rows are dropped and counted)
  ranking  precision@k (hits/k), recall@k (hits/relevant), ndcg@k (binary, ln
           discount), map@k (Recommenders' map: Σ precision at each hit / relevant),
           map_at_k@k (the same / min(k, relevant)), averaged over the users in both
           test and predictions; coverage@k (distinct recommended items / catalogue)

A user's candidates are every model item the user did not rate in TRAIN
(--include-seen keeps them); equal scores rank the lower model item row first.
With --predictions, each user's rows are ordered by score, ties keeping the file's
order, and TRAIN's items are removed when --train is given. Every test rating is
relevant unless --relevance-threshold R (then only ratings ≥ R are). Rankings are
computed in blocks with a bounded top-k per user, never the users × items matrix.

The table goes to stdout; --json writes the metrics document: each metric's value,
k, exact definition and count, the counts of users, items and dropped cold-start
rows, the model id and parameters and the SHA-256 of every input. It has a fixed
key order and no timestamps: the same inputs give the same bytes.

CI gate: --baseline OLD.json compares with an earlier document and prints baseline,
current and delta side by side; if a metric is worse than its --max-regression
allowance (lower is better for rmse and mae, higher for the rest) eval exits 5,
after writing --json. 'recs compare' does the same for two documents.`,
		Example: `  recs eval --model model/ --train split/train.parquet --test split/test.parquet
  recs eval --model model/ --train train.parquet --test test.parquet --k 5,10,20 --json metrics.json
  recs eval --model model/ --train train.parquet --test test.parquet \
      --baseline last/metrics.json --max-regression ndcg@10=0.01,rmse=0.005
  recs eval --predictions top10.jsonl --train train.parquet --test test.parquet --metrics ndcg,precision`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.hasThreshold = cmd.Flags().Changed("relevance-threshold")
			if err := o.validate(); err != nil {
				return err
			}
			return runEval(cmd.Context(), env, o)
		},
	}
	o.addFlags(cmd.Flags())
	return cmd
}

func (o *evalOptions) validate() error {
	switch {
	case o.Model == "" && o.Predictions == "":
		return usagef("give --model MODEL or --predictions FILE")
	case o.Model != "" && o.Predictions != "":
		return usagef("--model and --predictions exclude each other")
	case o.Test == "":
		return usagef("--test TEST is required")
	}
	var err error
	if o.ks, err = eval.ParseKs(o.K); err != nil {
		return usagef("--k: %v", err)
	}
	if o.names, err = eval.ParseMetrics(o.Metrics); err != nil {
		return usagef("--metrics: %v", err)
	}
	ranking := false
	for _, n := range o.names {
		ranking = ranking || !isRatingMetric(n)
	}
	if o.Model != "" && ranking && !o.IncludeSeen && o.Train == "" {
		return usagef("--train TRAIN is required to leave out the items users already rated (or give --include-seen)")
	}
	if o.MaxRegression != "" {
		if o.Baseline == "" {
			return usagef("--max-regression needs --baseline")
		}
		if o.allow, err = eval.ParseAllowances(o.MaxRegression); err != nil {
			return usagef("--max-regression: %v", err)
		}
	}
	if o.Threads < 0 {
		return usagef("--threads must be ≥ 0")
	}
	return nil
}

func isRatingMetric(name string) bool {
	for _, n := range eval.RatingMetrics {
		if n == name {
			return true
		}
	}
	return false
}

func runEval(ctx context.Context, env *Env, o *evalOptions) error {
	start := time.Now()
	var baseline *eval.Document
	if o.Baseline != "" { // read first: a bad baseline should not cost a full evaluation
		var err error
		if baseline, err = eval.ReadDocumentFile(o.Baseline); err != nil {
			return err
		}
	}
	var m *als.Model
	var preds *eval.Predictions
	var err error
	if o.Model != "" {
		if m, err = loadModel(ctx, o.Model); err != nil {
			return err
		}
	} else if preds, err = eval.ReadPredictionsFile(ctx, o.Predictions); err != nil {
		return err
	}
	test, err := ingest.LoadTable(ctx, o.Test)
	if err != nil {
		return err
	}
	var train *ratings.Table
	if o.Train != "" {
		if train, err = ingest.LoadTable(ctx, o.Train); err != nil {
			return err
		}
	}

	opts := eval.Options{K: o.ks, Metrics: o.names, IncludeSeen: o.IncludeSeen, Threads: o.Threads}
	if o.hasThreshold {
		opts.RelevanceThreshold = &o.Threshold
	}
	bar := env.Progress("ranking users", 0)
	if bar != nil {
		opts.Progress = bar
	}
	var doc *eval.Document
	evalStart := time.Now()
	if m != nil {
		doc, err = eval.EvaluateModel(ctx, m, train, test, opts)
	} else {
		doc, err = eval.EvaluatePredictions(ctx, preds, train, test, opts)
	}
	bar.Done()
	if err != nil {
		return evalInputError(err, o)
	}
	doc.Tool = "recs " + version()
	if doc.Inputs, err = hashInputs(map[string]string{"model": o.Model, "predictions": o.Predictions, "train": o.Train, "test": o.Test}); err != nil {
		return err
	}
	for _, w := range doc.Warnings {
		env.Log.Warn(w)
	}
	evalSec := time.Since(evalStart).Seconds()
	env.Log.Info("evaluated", "ranked_users", doc.Counts.RankedUsers, "rating_rows", doc.Counts.RatingRows,
		"users_per_s", float64(doc.Counts.RankedUsers)/evalSec, "eval_seconds", evalSec,
		"seconds", time.Since(start).Seconds())

	if o.JSON != "" {
		write := doc.WriteJSON
		if o.JSON == "-" {
			if err := write(env.Out); err != nil {
				return err
			}
		} else if err := atomicfile.WriteFile(o.JSON, func(w io.Writer) error { return write(w) }); err != nil {
			return err
		}
	}
	tableOut := env.Out
	if o.JSON == "-" {
		tableOut = env.Err // stdout holds the document
	} else if err := doc.WriteTable(env.Out); err != nil {
		return err
	}
	if baseline == nil {
		return nil
	}
	return gate(tableOut, baseline, doc, o.allow, o.Baseline)
}

// evalInputError names the file behind eval's "test"/"train" input errors.
func evalInputError(err error, o *evalOptions) error {
	var ie *errs.InputError
	if errors.As(err, &ie) {
		switch ie.File {
		case "test":
			ie.File = o.Test
		case "train":
			ie.File = o.Train
		}
	}
	return err
}

// hashInputs hashes the named inputs that were given ("-", standard input,
// is recorded without a hash).
func hashInputs(paths map[string]string) (map[string]eval.FileHash, error) {
	out := map[string]eval.FileHash{}
	for role, p := range paths {
		switch p {
		case "":
			continue
		case "-":
			out[role] = eval.FileHash{Path: p}
			continue
		}
		if _, err := os.Stat(p); ingest.IsBlobURL(p) || (err != nil && strings.ContainsAny(p, "*?[")) {
			// A Blob location or a glob of part files: recorded by name,
			// not read a second time to be hashed.
			out[role] = eval.FileHash{Path: inputName(p)}
			continue
		}
		h, err := eval.HashPath(p)
		if err != nil {
			return nil, errs.Input(p, err)
		}
		out[role] = h
	}
	return out, nil
}

// gate compares doc with baseline, prints the table to w and returns an
// error wrapping errs.ErrRegression (exit 5) when a metric regressed.
// Allowances naming a metric absent from the current metrics are a usage
// error; absent from the baseline, an input error about the baseline.
func gate(w io.Writer, baseline, doc *eval.Document, allow []eval.Allowance, baselineName string) error {
	for _, a := range allow {
		if a.Key == "*" {
			continue
		}
		if _, ok := doc.Metrics.Get(a.Key); !ok {
			return usagef("--max-regression names %s, which was not computed (see --k and --metrics)", a.Key)
		}
		if _, ok := baseline.Metrics.Get(a.Key); !ok {
			return errs.Input(baselineName, fmt.Errorf("the baseline has no metric %s", a.Key))
		}
	}
	cmp, err := eval.Compare(baseline, doc, allow)
	fmt.Fprintf(w, "\ncompared with %s:\n", baselineName)
	if werr := cmp.WriteTable(w); werr != nil {
		return werr
	}
	return err
}

package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/internal/progress"
	"github.com/recs-dev/recs/pipeline"
)

type trainOptions struct {
	configFile  string
	printConfig bool
	dryRun      bool
	json        bool
	cfg         pipeline.Config // flag values; only flags the user set override the file
}

func init() { register("train", newTrainCmd) }

// bindTrainFlags binds the configuration's flags to c. It is called twice:
// once for the command line, once to apply the flags the user set on top
// of the configuration file (by re-setting them from their text).
func bindTrainFlags(fs *pflag.FlagSet, c *pipeline.Config) {
	fs.StringVar(&c.Input.MovieLens, "movielens", c.Input.MovieLens, "ingest a MovieLens release (100k, 1m, 10m, 20m, 25m, 32m, latest-small), downloaded once into the cache")
	fs.StringVar(&c.Input.Format, "format", c.Input.Format, "force the input format (see recs ingest --help)")
	fs.StringVar(&c.Input.Dedupe, "dedupe", c.Input.Dedupe, "duplicate (user, item) ratings: last, first, mean or error")

	fs.StringVar(&c.Split.Method, "split", c.Split.Method, "split method: random, stratified or chrono")
	fs.StringVar(&c.Split.By, "by", c.Split.By, "stratified/chrono split groups: user or item")
	fs.Float64Var(&c.Split.Ratio, "ratio", c.Split.Ratio, "share of each group that goes to train")
	fs.IntVar(&c.Split.MinRatings, "min-ratings", c.Split.MinRatings, "drop groups with fewer ratings before splitting")
	fs.Int64Var(&c.Split.Seed, "split-seed", c.Split.Seed, "seed of the split (--seed sets it too)")

	fs.IntVar(&c.ALS.Rank, "rank", c.ALS.Rank, "ALS factors per user and item")
	fs.IntVar(&c.ALS.MaxIter, "max-iter", c.ALS.MaxIter, "ALS iterations")
	fs.Float64Var(&c.ALS.Reg, "reg", c.ALS.Reg, "ALS regularisation λ (Spark's regParam)")
	fs.BoolVar(&c.ALS.Implicit, "implicit", c.ALS.Implicit, "implicit feedback (Hu, Koren, Volinsky)")
	fs.Float64Var(&c.ALS.Alpha, "alpha", c.ALS.Alpha, "implicit confidence: c = 1 + α·|r|")
	fs.BoolVar(&c.ALS.Nonnegative, "nonnegative", c.ALS.Nonnegative, "non-negative factors")
	fs.Int64Var(&c.ALS.Seed, "als-seed", c.ALS.Seed, "seed of the initial factors (--seed sets it too)")
	fs.IntVar(&c.ALS.Threads, "threads", c.ALS.Threads, "worker goroutines (0: all cores); results do not depend on it")
	fs.StringVar(&c.ALS.Solver, "solver", c.ALS.Solver, "normal-equation solver: cholesky or cg")
	fs.IntVar(&c.ALS.CGSteps, "cg-steps", c.ALS.CGSteps, "conjugate-gradient steps per solve (--solver cg)")
	fs.BoolVar(&c.ALS.Biases, "biases", c.ALS.Biases, "learn user and item biases (explicit; not in Spark)")
	fs.StringVar(&c.ALS.RegMode, "reg-mode", c.ALS.RegMode, "regularisation weight: spark (λ·n_u), plain (λ) or frequency (λ·(n_u + N/(1+α))^ν, implicit only)")
	fs.Float64Var(&c.ALS.RegExponent, "reg-exponent", c.ALS.RegExponent, "ν of --reg-mode frequency")

	fs.IntVar(&c.Eval.K, "k", c.Eval.K, "list length for ranking metrics and for the published top-k")
	fs.Float64Var(&c.Eval.RelevanceThreshold, "relevance-threshold", c.Eval.RelevanceThreshold, "only test ratings ≥ this are relevant (0: all)")
	fs.BoolVar(&c.Recommend.IncludeSeen, "include-seen", c.Recommend.IncludeSeen, "do not exclude items the user rated in train")

	fs.StringVar(&c.Publish.To, "publish", c.Publish.To, "where the top-k goes: none, dir, blob, cosmos or redis")
	fs.StringVar(&c.Publish.Dir, "publish-dir", c.Publish.Dir, "directory for --publish dir")
	fs.StringVar(&c.Publish.Prefix, "prefix", c.Publish.Prefix, "subdirectory or blob prefix of the publication")
	fs.IntVar(&c.Publish.KeepGenerations, "keep-generations", c.Publish.KeepGenerations, "publications kept in --publish-dir / under the blob or Redis prefix, this one included (dir, blob and redis)")
	fs.StringVar(&c.Publish.BlobURL, "blob-url", c.Publish.BlobURL, "https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX for --publish blob (default: $RECS_BLOB_URL)")
	fs.StringVar(&c.Publish.BlobContainer, "blob-container", c.Publish.BlobContainer, "container for --publish blob with $AZURE_STORAGE_CONNECTION_STRING")
	fs.StringVar(&c.Publish.CosmosEndpoint, "cosmos-endpoint", c.Publish.CosmosEndpoint, "Cosmos DB endpoint for --publish cosmos (default: $RECS_COSMOS_ENDPOINT; key from $RECS_COSMOS_KEY or Azure AD)")
	fs.StringVar(&c.Publish.Database, "database", c.Publish.Database, "Cosmos DB database")
	fs.StringVar(&c.Publish.Container, "container", c.Publish.Container, "Cosmos DB container (created with partition key /id)")
	fs.StringVar(&c.Publish.DocumentShape, "document-shape", c.Publish.DocumentShape, "Cosmos documents: full ({id, items:[{id,score}], model, generatedAt}) or reference ({id, MovieId:[ids]})")
	fs.IntVar(&c.Publish.TTL, "ttl", c.Publish.TTL, "Cosmos document (or Redis key) time to live in seconds (0: none)")
	bindTrainRedisFlags(fs, c)

	fs.StringVar(&c.Gate.Baseline, "baseline", c.Gate.Baseline, "metrics document, run directory, or 'latest' to gate against")
	fs.StringVar(&c.Gate.MaxRegression, "max-regression", c.Gate.MaxRegression, "allowances, e.g. ndcg@10=0.01,rmse=0.005 (direction-aware)")

	fs.StringVar(&c.Tune.Space, "tune", c.Tune.Space, "search the ALS parameters first (space file, or 'builtin'), on a holdout of the train split")
	fs.StringVar(&c.Tune.Strategy, "tune-strategy", c.Tune.Strategy, "search strategy: grid, random or halving")
	fs.IntVar(&c.Tune.Budget, "tune-budget", c.Tune.Budget, "most trials of the search")
	fs.StringVar(&c.Tune.Metric, "tune-metric", c.Tune.Metric, "validation metric the search optimises")
	fs.Float64Var(&c.Tune.Holdout, "tune-holdout", c.Tune.Holdout, "share of the train split held out for validation")
	fs.StringVar(&c.Runs.Root, "runs", c.Runs.Root, "run root: each run writes ROOT/<time>-<id>/, ROOT/latest is the last good one")
	fs.IntVar(&c.Runs.Keep, "keep", c.Runs.Keep, "keep only the newest N runs (0: all)")
	fs.BoolVar(&c.Report, "report", c.Report, "write report.html into the run directory")
}

func newTrainCmd(env *Env) *cobra.Command {
	opts := &trainOptions{cfg: pipeline.Defaults()}
	cmd := &cobra.Command{
		Use:   "train [SOURCE...]",
		Short: "Run the whole pipeline: ingest, split, fit, evaluate, recommend, publish",
		Long: `Train runs ingest → split → fit → eval → quality gate → recommend → publish
into a new run directory under --runs, and switches ROOT/latest to it when it
succeeds. SOURCE is any input 'recs ingest' reads (a path, a Blob URL, -), or use
--movielens NAME.

Settings come from the built-in defaults (Spark's ALS defaults and the Microsoft
Recommenders protocol: stratified by item, 75/25, seed 42, k = 10), then the
--config YAML file, then the flags you set. --print-config shows the result.

For cron: runs on one run root never overlap (a lock; a dead holder's lock is
taken over); SIGTERM leaves no partial run and latest unchanged; with --baseline
and --max-regression a worse model is recorded but never published (exit 5).`,
		Example: `  # the Microsoft Recommenders protocol on MovieLens 100k
  recs train --movielens 100k --rank 10 --reg 0.05 --max-iter 15 --report

  # nightly: gate against the last good run, publish to Cosmos DB, keep two weeks
  RECS_COSMOS_ENDPOINT=https://acct.documents.azure.com:443/ RECS_COSMOS_KEY=... \
    recs train ratings.csv --baseline latest --max-regression ndcg@10=0.01 \
      --publish cosmos --keep 14 --log-format json

  # search the parameters on the train split first, then train the winner
  recs train --movielens 100k --tune builtin --tune-budget 100

  # from a file, checking everything without training
  recs train --config recs.yaml --dry-run
  recs train --config recs.yaml --print-config`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := opts.effective(cmd, args)
			if err != nil {
				return err
			}
			if opts.printConfig {
				_, err := env.Out.Write(cfg.YAML())
				return err
			}
			return runTrain(cmd.Context(), env, opts, cfg)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.configFile, "config", "", "YAML configuration file (flags override it)")
	fs.BoolVar(&opts.printConfig, "print-config", false, "print the effective configuration as YAML and exit")
	fs.BoolVar(&opts.dryRun, "dry-run", false, "validate the configuration, the input and the sink without training")
	fs.BoolVar(&opts.json, "json", false, "print the result as one JSON object")
	fs.Int64("seed", 42, "seed of both the split and the ALS initialisation")
	bindTrainFlags(fs, &opts.cfg)
	return cmd
}

// effective returns defaults ← --config file ← flags the user set ← args.
func (o *trainOptions) effective(cmd *cobra.Command, args []string) (pipeline.Config, error) {
	cfg := pipeline.Defaults()
	if o.configFile != "" {
		if err := pipeline.LoadConfig(o.configFile, &cfg); err != nil {
			return cfg, usagef("--config: %v", err)
		}
	}
	apply := pflag.NewFlagSet("apply", pflag.ContinueOnError)
	bindTrainFlags(apply, &cfg)
	var err error
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if f.Name == "seed" {
			seed, _ := cmd.Flags().GetInt64("seed")
			cfg.Split.Seed, cfg.ALS.Seed = seed, seed
			return
		}
		if apply.Lookup(f.Name) != nil {
			if e := apply.Set(f.Name, f.Value.String()); e != nil && err == nil {
				err = usagef("--%s: %v", f.Name, e)
			}
		}
	})
	if err != nil {
		return cfg, err
	}
	if len(args) > 0 {
		cfg.Input.Sources = args
	}
	redisFromEnv(&cfg)
	if err := cfg.Validate(); err != nil && !o.printConfig {
		return cfg, usageError{err}
	}
	if cfg.Input.MovieLens != "" && cfg.Input.MovieLensURL == "" {
		cfg.Input.MovieLensURL = os.Getenv("RECS_MOVIELENS_URL")
	}
	return cfg, nil
}

func runTrain(ctx context.Context, env *Env, opts *trainOptions, cfg pipeline.Config) error {
	hooks := pipeline.Hooks{
		Log: env.Log,
		Progress: func(desc string, total int64) pipeline.Progress {
			// Downloads count bytes; the other steps of a run are few
			// and long (iterations, trials): elapsed time and estimate,
			// no rate.
			if strings.HasPrefix(desc, "download") {
				return env.ProgressBytes(desc, total)
			}
			return env.ProgressWith(desc, total, progress.Options{NoRate: true})
		},
		Iteration: func(als.Iteration) {},
	}
	if opts.dryRun {
		rep, err := pipeline.DryRun(ctx, cfg, hooks)
		if err != nil {
			return err
		}
		if opts.json {
			return json.NewEncoder(env.Out).Encode(rep)
		}
		fmt.Fprintf(env.Out, "dry run ok: %d ratings, %d users, %d items; sink %s\n", rep.Ratings, rep.Users, rep.Items, rep.Sink)
		return nil
	}
	res, err := pipeline.Run(ctx, cfg, version(), hooks)
	if res != nil && res.Manifest != nil {
		if opts.json {
			if e := json.NewEncoder(env.Out).Encode(res.Summary()); e != nil && err == nil {
				err = e
			}
		} else {
			printTrainResult(env, res)
		}
	}
	return err
}

func printTrainResult(env *Env, res *pipeline.Result) {
	w := tabwriter.NewWriter(env.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "run\t%s\n", res.Dir)
	fmt.Fprintf(w, "status\t%s\n", res.Manifest.Status)
	w.Flush()
	if res.Metrics != nil {
		fmt.Fprintln(env.Out)
		res.Metrics.WriteTable(env.Out)
	}
	if res.Metrics != nil && res.IsML100k() {
		fmt.Fprintln(env.Out)
		pipeline.WritePublishedComparison(env.Out, res.Metrics, res.Config.ALS)
	}
	if res.Gate != nil && res.Gate.Comparison != nil {
		fmt.Fprintf(env.Out, "\nquality gate against %s: %s\n", res.Gate.Baseline, map[bool]string{true: "passed", false: "FAILED (nothing published)"}[res.Gate.Passed])
		res.Gate.Comparison.WriteTable(env.Out)
	}
	if f := res.Manifest.Files["report"]; f != "" {
		fmt.Fprintf(env.Out, "\nreport: %s\n", filepath.Join(res.Dir, f))
	}
	if p := res.Manifest.Published; p != nil {
		fmt.Fprintf(env.Out, "\npublished %d lists to %s %s\n", p.Documents, p.Sink, p.Target)
	}
}

package cli

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/recs-dev/recs/eval"
)

func init() { register("compare", newCompareCmd) }

// compareOptions are the flags of `recs compare`.
type compareOptions struct {
	Baseline      string
	Current       string
	MaxRegression string

	allow []eval.Allowance
}

func (o *compareOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.MaxRegression, "max-regression", "", "allowed worsening per metric, e.g. ndcg@10=0.01,rmse=0.005; *=X for every other metric (default: nothing may get worse)")
}

func newCompareCmd(env *Env) *cobra.Command {
	o := &compareOptions{}
	cmd := &cobra.Command{
		Use:   "compare BASELINE.json CURRENT.json",
		Short: "Compare two metrics documents side by side, as a CI gate",
		Long: `Compare prints the metrics of two documents written by 'recs eval --json' side
by side: baseline, current, delta, the allowance and the verdict. A metric
regresses when it is worse than the baseline by more than its allowance — lower
is better for rmse and mae, higher for every other metric. Without
--max-regression nothing may get worse; with it, only the metrics it names are
gated (and, with *=X, every other metric with allowance X). Compare exits 5 when
a metric regressed, so a CI job can stop on it.`,
		Example: `  recs compare runs/last/metrics.json metrics.json
  recs compare base.json new.json --max-regression ndcg@10=0.01,rmse=0.005
  recs compare base.json new.json --max-regression '*=0.002'`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Baseline, o.Current = args[0], args[1]
			if o.MaxRegression != "" {
				var err error
				if o.allow, err = eval.ParseAllowances(o.MaxRegression); err != nil {
					return usagef("--max-regression: %v", err)
				}
			}
			return runCompare(cmd.Context(), env, o)
		},
	}
	o.addFlags(cmd.Flags())
	return cmd
}

func runCompare(_ context.Context, env *Env, o *compareOptions) error {
	base, err := eval.ReadDocumentFile(o.Baseline)
	if err != nil {
		return err
	}
	cur, err := eval.ReadDocumentFile(o.Current)
	if err != nil {
		return err
	}
	for _, a := range o.allow {
		if a.Key == "*" {
			continue
		}
		if _, ok := cur.Metrics.Get(a.Key); !ok {
			return usagef("--max-regression names %s, which %s does not hold", a.Key, o.Current)
		}
		if _, ok := base.Metrics.Get(a.Key); !ok {
			return usagef("--max-regression names %s, which %s does not hold", a.Key, o.Baseline)
		}
	}
	cmp, err := eval.Compare(base, cur, o.allow)
	if werr := cmp.WriteTable(env.Out); werr != nil {
		return werr
	}
	return err
}

package cli

import (
	"context"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/recs-dev/recs/internal/atomicfile"
	"github.com/recs-dev/recs/report"
	"github.com/recs-dev/recs/rundir"
	"github.com/recs-dev/recs/tune"
)

func init() { register("report", newReportCmd) }

// reportOptions are the flags of `recs report`.
type reportOptions struct {
	RunDir string
	Output string
	Space  string
}

func (o *reportOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.Output, "output", "o", "", "HTML file to write, - for stdout (default: DIR/"+rundir.ReportFile+")")
	fs.StringVar(&o.Space, "space", "", "search space of the hyperparameter search (a file, or builtin), for the scales of its plots (default: the space best.yaml or config.yaml names)")
}

func newReportCmd(env *Env) *cobra.Command {
	opts := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "report RUN_DIR|TUNE_DIR",
		Short: "Write the HTML report of a training run or a hyperparameter search",
		Long: `Write a self-contained HTML page about a run directory of 'recs train':
training loss and validation metric per iteration, precision, recall and NDCG
as k goes from 1 to 20, the rating distribution, item popularity (the long
tail) against how often items are recommended, the parameters and metrics as
tables, the pipeline steps with their wall time and memory, and the quality
gate. Computed health hints (loss not falling, overfitting, popularity
collapse, ...) state the thresholds they apply.

The page embeds its plots as SVG and needs no network and no JavaScript. The
same run gives the same bytes. The file is written atomically: a reader sees
the previous report or the complete new one.

Files missing from the run directory (a run that failed early) leave their
sections out; a file that exists but cannot be read is an error.

Hyperparameter search: a run of 'recs train --tune' gets a section with the
validation metric against each parameter the search varied (one plot each), a
leaderboard of the 10 best configurations, the winning configuration and the
search's settings. Given the output directory of 'recs tune' (it holds
trials.json), the page shows that section alone. Axes follow the search
space: a log range gets a log axis over the range, a list one column per
value; the space is the one best.yaml (recs tune) or config.yaml (recs train)
names, or --space. When it cannot be read, numbers spanning more than two
decades get a log axis. Successive halving plots each configuration once, at
its best trial, coloured by the last rung it reached.`,
		Example: `  recs report runs/latest
  recs report runs/20261126T061500Z-3f9a1c -o /tmp/report.html
  recs report runs/latest -o - > report.html
  recs report tune/ -o tune.html`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.RunDir = args[0]
			if opts.RunDir == "" {
				return usagef("RUN_DIR or TUNE_DIR must not be empty")
			}
			return runReport(cmd.Context(), env, opts)
		},
	}
	opts.addFlags(cmd.Flags())
	return cmd
}

func runReport(ctx context.Context, env *Env, opts *reportOptions) error {
	read := report.FromRunDir
	if report.IsTuneDir(opts.RunDir) {
		read = report.FromTuneDir
	}
	in, err := read(opts.RunDir)
	if err != nil {
		return err
	}
	if opts.Space != "" {
		if in.Tune == nil {
			return usagef("--space: %s holds no hyperparameter search", opts.RunDir)
		}
		space := tune.DefaultSpace()
		if opts.Space != "builtin" && opts.Space != "built-in" {
			if space, err = tune.LoadSpace(opts.Space); err != nil {
				return err
			}
		}
		in.Tune.Space, in.Tune.SpaceName = &space, opts.Space
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(in.Missing) > 0 {
		env.Log.Warn("run directory is incomplete; the report leaves out what is missing", "run", opts.RunDir, "missing", in.Missing)
	}
	if opts.Output == "-" {
		return report.Write(env.Out, in)
	}
	out := opts.Output
	if out == "" {
		out = filepath.Join(opts.RunDir, rundir.ReportFile)
	}
	if err := atomicfile.WriteFile(out, func(w io.Writer) error { return report.Write(w, in) }); err != nil {
		return err
	}
	env.Log.Info("report written", "path", out)
	return nil
}

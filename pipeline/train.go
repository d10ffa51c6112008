package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/recs-dev/recs/internal/logfield"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/eval"
	"github.com/recs-dev/recs/ingest"
	"github.com/recs-dev/recs/internal/atomicfile"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/ratings"
	"github.com/recs-dev/recs/rundir"
	"github.com/recs-dev/recs/topk"
	"github.com/recs-dev/recs/toplist"
)

// Hooks connect a run to its caller's user interface. Every field may be
// nil.
type Hooks struct {
	// Log receives one structured line per step.
	Log *slog.Logger
	// Progress starts a progress display for a task of total units.
	Progress func(desc string, total int64) Progress
	// Iteration is called after each ALS iteration.
	Iteration func(als.Iteration)
}

// downloadProgress feeds a download's bytes to a Progress.
type downloadProgress struct{ p Progress }

func (d downloadProgress) SetTotal(int64) {}
func (d downloadProgress) Add(n int64)    { d.p.Add(n) }

// Progress is a running progress display.
type Progress interface {
	Add(n int64)
	Set(n int64)
	Note(s string) // a short note beside the description: the loss, say
	Done()
}

type nopProgress struct{}

func (nopProgress) Add(int64)   {}
func (nopProgress) Set(int64)   {}
func (nopProgress) Note(string) {}
func (nopProgress) Done()       {}

// Result is what a run produced.
type Result struct {
	Dir      string // the run directory (empty when the run was interrupted)
	Manifest *rundir.Manifest
	Metrics  *eval.Document
	Gate     *GateResult
	Config   Config // the configuration the run used (with --tune: the winner's ALS parameters)
}

// run is the state of one training run.
type run struct {
	cfg     Config
	hooks   Hooks
	version string
	log     *slog.Logger
	root    string
	tmp     string
	id      string
	man     rundir.Manifest
	timer   stepTimer

	table, train, test *ratings.Table
	model              *als.Model
	metrics, curves    *eval.Document
}

// Run executes cfg. version is recorded in the manifest. On success the
// returned Result describes the run; on a failed gate the run is recorded
// and the error wraps errdefs.ErrRegression; on interruption no run directory
// remains and the error wraps context.Canceled.
func Run(ctx context.Context, cfg Config, version string, hooks Hooks) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, hooks: hooks, version: version, root: cfg.Runs.Root, log: hooks.Log}
	if r.log == nil {
		r.log = discard()
	}
	lock, err := AcquireLock(r.root)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	removeStale(r.root, r.log)

	now := time.Now().UTC()
	r.id = newRunID(now)
	r.tmp = filepath.Join(r.root, ".tmp-"+r.id)
	if err := os.MkdirAll(r.tmp, 0o755); err != nil {
		return nil, err
	}
	r.man = rundir.Manifest{RunID: r.id, ToolVersion: version, Started: now, Files: map[string]string{}}
	// The split as configured; the split step adds its sizes. A run that
	// fails before it still says what it was to do.
	r.man.Split = rundir.SplitInfo{Method: r.cfg.Split.Method, By: r.cfg.Split.By, Seed: r.cfg.Split.Seed,
		Ratios: []float64{r.cfg.Split.Ratio, 1 - r.cfg.Split.Ratio}}
	r.log.Info("run started", "run", r.id, "root", r.root)

	res, runErr := r.steps(ctx)
	if ctx.Err() != nil {
		os.RemoveAll(r.tmp)
		r.log.Warn("run interrupted: nothing kept", "run", r.id)
		return nil, fmt.Errorf("run %s interrupted: %w", r.id, context.Canceled)
	}
	r.man.Finished = time.Now().UTC()
	r.man.Steps = r.timer.steps
	switch {
	case runErr == nil:
		r.man.Status = "ok"
	case errors.Is(runErr, errs.ErrRegression):
		r.man.Status = "regression"
	default:
		r.man.Status = "failed"
		r.man.Error = runErr.Error()
	}
	r.man.ExitCode = exitCodeOf(runErr)
	if cfg.Report && r.model != nil {
		if err := r.timer.run("report", r.report); err != nil {
			r.log.Warn("report failed", "err", err)
		}
		r.man.Steps = r.timer.steps
	}
	if err := r.writeConfig(); err != nil && runErr == nil {
		runErr = err
	}
	if err := r.writeManifest(); err != nil {
		os.RemoveAll(r.tmp)
		return nil, errors.Join(runErr, err)
	}
	dir := filepath.Join(r.root, r.id)
	if err := os.Rename(r.tmp, dir); err != nil {
		os.RemoveAll(r.tmp)
		return nil, errors.Join(runErr, err)
	}
	if res == nil {
		res = &Result{}
	}
	res.Dir, res.Manifest, res.Config = dir, &r.man, r.cfg
	if runErr != nil {
		r.log.Error("run recorded", "run", r.id, "status", r.man.Status, "dir", dir)
		return res, runErr
	}
	if err := switchLatest(r.root, r.id); err != nil {
		return res, fmt.Errorf("switch %s: %w", filepath.Join(r.root, rundir.LatestLink), err)
	}
	if removed, err := prune(r.root, cfg.Runs.Keep); err != nil {
		r.log.Warn("pruning old runs failed", "err", err)
	} else if len(removed) > 0 {
		r.log.Info("pruned old runs", "removed", len(removed))
	}
	r.log.Info("run finished", "run", r.id, "dir", dir, "seconds", logfield.Seconds(r.man.Finished.Sub(r.man.Started)))
	return res, nil
}

// exitCodeOf mirrors the CLI's exit-code table for the manifest.
func exitCodeOf(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errs.ErrRegression):
		return 5
	case errs.IsInput(err):
		return 3
	case errs.IsService(err):
		return 4
	}
	return 1
}

// removeStale deletes the build directories of runs that were killed
// before they could clean up. The caller holds the lock, so none is live.
func removeStale(root string, log *slog.Logger) {
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), ".tmp-") {
			os.RemoveAll(filepath.Join(root, e.Name()))
			log.Warn("removed the leftovers of an interrupted run", "dir", e.Name())
		}
	}
}

func (r *run) path(name string) string { return filepath.Join(r.tmp, name) }

func (r *run) progress(desc string, total int64) Progress {
	if r.hooks.Progress == nil {
		return nopProgress{}
	}
	return r.hooks.Progress(desc, total)
}

func (r *run) writeConfig() error {
	return atomicfile.WriteFile(r.path(rundir.ConfigFile), func(w io.Writer) error {
		_, err := w.Write(r.cfg.YAML())
		return err
	})
}

func (r *run) writeManifest() error {
	b, err := json.MarshalIndent(&r.man, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(r.path(rundir.ManifestFile), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// steps runs the pipeline's steps in order, stopping at the first error.
func (r *run) steps(ctx context.Context) (*Result, error) {
	res := &Result{}
	if err := r.timer.run("ingest", func() error { return r.ingest(ctx) }); err != nil {
		return res, err
	}
	if err := r.timer.run("split", func() error { return r.split(ctx) }); err != nil {
		return res, err
	}
	if r.cfg.Tune.Space != "" {
		if err := r.timer.run("tune", func() error { return r.tune(ctx) }); err != nil {
			return res, err
		}
	}
	if err := r.timer.run("fit", func() error { return r.fit(ctx) }); err != nil {
		return res, err
	}
	if err := r.timer.run("eval", func() error {
		var err error
		res.Metrics, err = r.evaluate(ctx)
		return err
	}); err != nil {
		return res, err
	}
	if err := r.timer.run("recommend", func() error { return r.recommend(ctx) }); err != nil {
		return res, err
	}
	gate, gateErr := r.gate(res.Metrics)
	res.Gate = gate
	if gateErr != nil {
		return res, gateErr
	}
	if err := r.timer.run("publish", func() error { return r.publish(ctx) }); err != nil {
		return res, err
	}
	return res, nil
}

func (r *run) ingest(ctx context.Context) error {
	sources := r.cfg.Input.Sources
	if r.cfg.Input.MovieLens != "" {
		// Recorded first, so that a failed run says what it tried to read.
		r.man.Inputs = []rundir.Input{{Source: "movielens:" + r.cfg.Input.MovieLens}}
		bar := r.progress("download ml-"+r.cfg.Input.MovieLens, 0)
		p, cached, err := ingest.MovieLensPath(ctx, r.cfg.Input.MovieLens, ingest.DownloadOptions{
			BaseURL: r.cfg.Input.MovieLensURL, Progress: downloadProgress{bar},
			OnRetry: func(attempt int, err error, wait time.Duration) {
				r.log.Warn("download failed, retrying", "set", r.cfg.Input.MovieLens, "attempt", attempt,
					"error", err.Error(), "wait_seconds", logfield.Seconds(wait))
			}})
		bar.Done()
		if err != nil {
			return err
		}
		r.man.Inputs = nil
		r.log.Info("movielens", "set", r.cfg.Input.MovieLens, "path", p, "cached", cached)
		sources = []string{p}
	}
	opts := ingest.Options{}
	if r.cfg.Input.Format != "" {
		f, err := ingest.ParseFormat(r.cfg.Input.Format)
		if err != nil {
			return err
		}
		opts.Format = f
	}
	if r.cfg.Input.Dedupe != "" {
		d, err := ingest.ParseDedupe(r.cfg.Input.Dedupe)
		if err != nil {
			return err
		}
		opts.Dedupe = d
	}
	t, rep, err := ingest.Read(ctx, sources, opts)
	if err != nil {
		return err
	}
	r.table = t
	for i, s := range sources {
		in := rundir.Input{Source: stripQuery(s)}
		if i < len(rep.Sources) {
			in.Rows = int(rep.Sources[i].Rows)
		}
		if st, err := os.Stat(s); err == nil && st.Mode().IsRegular() {
			in.SHA256, _ = fileSHA256(s)
		}
		r.man.Inputs = append(r.man.Inputs, in)
	}
	r.log.Info("ingested", "ratings", t.Len(), "users", t.NumUsers(), "items", t.NumItems(),
		"duplicates", rep.Duplicates)
	return nil
}

func (r *run) fit(ctx context.Context) error {
	c := r.cfg.ALS
	p := als.Default()
	p.Rank, p.MaxIter, p.Reg, p.Implicit, p.Alpha = c.Rank, c.MaxIter, c.Reg, c.Implicit, c.Alpha
	p.Nonnegative, p.Seed, p.Threads, p.CGSteps = c.Nonnegative, c.Seed, c.Threads, c.CGSteps
	p.ColdStart = als.ColdStartDrop
	p.Biases, p.RegMode, p.RegExponent = c.Biases, als.RegMode(c.RegMode), c.RegExponent
	if c.Solver != "" {
		p.Solver = als.Solver(c.Solver)
	}
	bar := r.progress("fit", int64(p.MaxIter))
	defer bar.Done()
	opts := []als.Option{
		// The test split monitors each iteration for the report; nothing
		// is selected on it (the iteration count is fixed).
		als.WithValidation(r.test),
		als.WithCallback(func(it als.Iteration) error {
			bar.Set(int64(it.Iter))
			bar.Note(fmt.Sprintf("loss %.6g", it.Loss))
			r.log.Info("iteration", "iter", it.Iter, "of", p.MaxIter, "loss", logfield.Sig(it.Loss), "seconds", logfield.Seconds(it.Duration),
				"metric", it.Metric, "validation", it.Validation)
			if r.hooks.Iteration != nil {
				r.hooks.Iteration(it)
			}
			return nil
		}),
	}
	m, err := als.Fit(ctx, r.train, p, opts...)
	if err != nil {
		return err
	}
	r.model = m
	pj, _ := json.Marshal(m.Params)
	r.man.Params = pj
	if err := als.Save(r.path(rundir.ModelDir), m); err != nil {
		return err
	}
	r.man.Files["model"] = rundir.ModelDir
	return nil
}

// recommend writes every model user's top-k (seen items excluded unless
// configured otherwise) to the run's top-k file, streaming.
func (r *run) recommend(ctx context.Context) error {
	meta := toplist.Meta{Model: r.model.ID, K: r.cfg.Recommend.K, GeneratedAt: time.Now().UTC().Truncate(time.Second)}
	fw, err := toplist.Create(r.path(rundir.TopKFile), meta)
	if err != nil {
		return err
	}
	defer fw.Abort()
	opts := topk.Options{K: r.cfg.Recommend.K, Threads: r.cfg.ALS.Threads}
	if !r.cfg.Recommend.IncludeSeen {
		opts.Exclude = topk.NewExclusion(r.model, r.train)
	}
	bar := r.progress("recommend", int64(len(r.model.UserIDs)))
	defer bar.Done()
	list := toplist.List{}
	err = topk.Each(ctx, r.model, opts, func(u int32, items []int32, scores []float32) error {
		list.User = r.model.UserIDs[u]
		list.Items = list.Items[:0]
		for j, it := range items {
			list.Items = append(list.Items, toplist.Item{ID: r.model.ItemIDs[it], Score: scores[j]})
		}
		bar.Add(1)
		return fw.Write(list)
	})
	if err != nil {
		return err
	}
	if err := fw.Commit(); err != nil {
		return err
	}
	r.man.Files["topk"] = rundir.TopKFile
	return nil
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Summary is the short, machine-readable account of a run.
type Summary struct {
	RunID   string              `json:"run_id"`
	Dir     string              `json:"dir"`
	Status  string              `json:"status"`
	Metrics map[string]float64  `json:"metrics,omitempty"`
	Gate    *rundir.Gate        `json:"gate,omitempty"`
	Publish *rundir.Publication `json:"published,omitempty"`
}

// Summary returns the result in brief.
func (res *Result) Summary() Summary {
	s := Summary{Dir: res.Dir}
	if m := res.Manifest; m != nil {
		s.RunID, s.Status, s.Gate, s.Publish = m.RunID, m.Status, m.Gate, m.Published
	}
	if res.Metrics != nil {
		s.Metrics = map[string]float64{}
		for _, m := range res.Metrics.Metrics {
			s.Metrics[m.Key()] = m.Value
		}
	}
	return s
}

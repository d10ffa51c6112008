package pipeline

import (
	"context"
	"fmt"

	"github.com/recs-dev/recs/eval"
	"github.com/recs-dev/recs/internal/atomicfile"
	"github.com/recs-dev/recs/ratings"
	"github.com/recs-dev/recs/rundir"
	"github.com/recs-dev/recs/split"
)

// split cuts the table into train and test and writes both.
func (r *run) split(ctx context.Context) error {
	c := r.cfg.Split
	ratios := []float64{c.Ratio, 1 - c.Ratio}
	by, err := split.ParseBy(c.By)
	if err != nil {
		return err
	}
	parts, err := split.Apply(r.table, split.Spec{Method: c.Method, Ratios: ratios, By: by,
		MinRatings: c.MinRatings, Seed: c.Seed})
	if err != nil {
		return err
	}
	r.train, r.test = parts[0], parts[1]
	if r.train.Len() == 0 || r.test.Len() == 0 {
		return fmt.Errorf("the %s split left train with %d and test with %d ratings: both need some",
			c.Method, r.train.Len(), r.test.Len())
	}
	cu, ci, cr := split.ColdStart(r.train, r.test)
	r.man.Split = rundir.SplitInfo{Method: c.Method, By: c.By, Ratios: ratios, Seed: c.Seed,
		TrainRows: r.train.Len(), TestRows: r.test.Len(), ColdUsers: cu, ColdItems: ci, ColdRows: cr}
	if c.Method == split.MethodRandom {
		r.man.Split.By = ""
	}
	if err := ratings.WriteFile(r.path(rundir.TrainFile), r.train); err != nil {
		return err
	}
	if err := ratings.WriteFile(r.path(rundir.TestFile), r.test); err != nil {
		return err
	}
	r.man.Files["train"], r.man.Files["test"] = rundir.TrainFile, rundir.TestFile
	r.log.Info("split", "method", c.Method, "train", r.train.Len(), "test", r.test.Len(),
		"cold_users", cu, "cold_items", ci, "cold_rows", cr)
	return nil
}

// curveKs are the list lengths of the report's metric-against-k curves.
var curveKs = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}

// evaluate writes metrics.json (at the configured k) and curves.json (k =
// 1..20, ranking metrics only) and returns the former.
func (r *run) evaluate(ctx context.Context) (*eval.Document, error) {
	opts := eval.Options{K: []int{r.cfg.Eval.K}, IncludeSeen: r.cfg.Recommend.IncludeSeen, Threads: r.cfg.ALS.Threads}
	if r.cfg.ALS.Implicit {
		// An implicit model predicts preferences in [0, 1], not ratings:
		// RMSE and its kin against the ratings would only mislead.
		opts.Metrics = eval.RankingMetrics
	}
	if t := r.cfg.Eval.RelevanceThreshold; t != 0 {
		opts.RelevanceThreshold = &t
	}
	doc, err := eval.EvaluateModel(ctx, r.model, r.train, r.test, opts)
	if err != nil {
		return nil, err
	}
	r.fillDoc(doc)
	if err := writeDoc(r.path(rundir.MetricsFile), doc); err != nil {
		return nil, err
	}
	r.man.Files["metrics"] = rundir.MetricsFile

	opts.K = curveKs
	opts.Metrics = eval.RankingMetrics
	curves, err := eval.EvaluateModel(ctx, r.model, r.train, r.test, opts)
	if err != nil {
		return nil, err
	}
	r.fillDoc(curves)
	if err := writeDoc(r.path(rundir.CurvesFile), curves); err != nil {
		return nil, err
	}
	r.man.Files["curves"] = rundir.CurvesFile
	r.metrics, r.curves = doc, curves
	attrs := make([]any, 0, 2*len(doc.Metrics))
	for _, m := range doc.Metrics {
		attrs = append(attrs, m.Key(), m.Value)
	}
	r.log.Info("evaluated", attrs...)
	return doc, nil
}

func (r *run) fillDoc(d *eval.Document) {
	d.Tool = "recs " + r.version
	d.Inputs = map[string]eval.FileHash{}
	for role, name := range map[string]string{"train": rundir.TrainFile, "test": rundir.TestFile} {
		if h, err := eval.HashPath(r.path(name)); err == nil {
			h.Path = name
			d.Inputs[role] = h
		}
	}
}

func writeDoc(path string, d *eval.Document) error {
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := d.WriteJSON(f); err != nil {
		return err
	}
	return f.Commit()
}

package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/eval"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/ratings"
	"github.com/recs-dev/recs/rundir"
	"github.com/recs-dev/recs/toplist"
	"github.com/recs-dev/recs/tune"
)

// Inputs is what a report shows. Every field may be left empty: the
// sections that need it are then left out and the page says which files
// were missing. The pipeline fills Inputs from the values it already holds;
// FromRunDir reads them from a run directory.
type Inputs struct {
	// RunDir is the run directory, shown in the page header.
	RunDir string
	// Manifest gives the status, the steps' wall time and memory, the
	// split, the inputs and the quality gate.
	Manifest *rundir.Manifest
	// Model gives the parameters, the per-iteration history (training
	// loss, training RMSE, validation metric, time) and the shape.
	Model *als.Model
	// Metrics is the evaluation document at the configured k (metrics
	// table, headline numbers); Curves the one for k = 1..20 (the plot of
	// ranking quality against k). When Curves is nil and Metrics holds
	// several k, the plot is drawn from Metrics.
	Metrics *eval.Document
	Curves  *eval.Document
	// Train is the training split: rating distribution and item popularity.
	Train *ratings.Table
	// TopK is every user's recommendation list: how often each item is
	// recommended, catalogue coverage.
	TopK []toplist.List

	// Tune is the run's hyperparameter search (`recs train --tune`): the
	// page gets a section with the metric against each parameter, the
	// leaderboard and the search's settings. When it is nil and the
	// manifest records a search, the section shows the manifest's summary.
	// Inputs holding only Tune make a page of the search alone: what
	// `recs report` writes for the directory of `recs tune`.
	Tune *Tune

	// Missing names files of the run directory that could not be found;
	// FromRunDir fills it, and the page lists them.
	Missing []string
}

// Write renders in as one self-contained HTML page on w. The bytes depend
// only on in. Cost: O(train rows + list slots + items·log items), plus the
// plots (a few hundred points each).
func Write(w io.Writer, in Inputs) error {
	d, err := build(in)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := render(&b, d); err != nil {
		return err
	}
	_, err = w.Write(b.Bytes())
	return err
}

// build converts in to the report's view.
func build(in Inputs) (*data, error) {
	d := &data{RunDir: in.RunDir, Manifest: in.Manifest, Missing: in.Missing}
	d.Tune = in.Tune
	d.TuneOnly = in.Tune != nil && in.Manifest == nil && in.Model == nil && in.Metrics == nil && in.Curves == nil &&
		in.Train == nil && in.TopK == nil && len(in.Missing) == 0
	if in.Tune == nil && in.Manifest != nil && len(in.Manifest.Tune) > 0 && string(in.Manifest.Tune) != "null" {
		var s tune.Summary
		if err := json.Unmarshal(in.Manifest.Tune, &s); err != nil {
			return nil, fmt.Errorf("report: the manifest's tune summary: %w", err)
		}
		d.TuneSum = &s
	}
	if m := in.Model; m != nil {
		d.Model = &modelInfo{Rank: m.Rank, Users: len(m.UserIDs), Items: len(m.ItemIDs), ID: m.ID}
		d.History = modelHistory(m.History)
		if m.Params != nil {
			imp := m.Params.Implicit
			d.Model.Implicit = &imp
			b, err := json.Marshal(m.Params)
			if err != nil {
				return nil, fmt.Errorf("report: model parameters: %w", err)
			}
			kvs, err := flatten(b)
			if err != nil {
				return nil, fmt.Errorf("report: model parameters: %w", err)
			}
			d.Params = kvs
		}
	}
	if d.Params == nil && in.Manifest != nil && len(in.Manifest.Params) > 0 {
		kvs, err := flatten(in.Manifest.Params)
		if err != nil {
			return nil, fmt.Errorf("report: manifest parameters: %w", err)
		}
		d.Params = kvs
	}
	if in.Metrics != nil {
		evalMetrics(d, in.Metrics)
	}
	d.Curves = evalCurve(in.Curves)
	if d.Curves == nil {
		d.Curves = evalCurve(in.Metrics)
	}
	if in.Train != nil {
		d.Ratings = rateStats(in.Train)
		d.Pop = popStats(in.Train, in.TopK)
	}
	return d, nil
}

// evalMetrics fills the metrics table, the configured k and the counts of
// the evaluation from doc.
func evalMetrics(d *data, doc *eval.Document) {
	if len(doc.Settings.K) == 1 {
		d.K = doc.Settings.K[0]
	}
	for _, m := range doc.Metrics {
		d.Metrics = append(d.Metrics, metric{Name: m.Key(), Value: m.Value, Lower: eval.LowerIsBetter(m.Name), Def: m.Definition})
	}
	c := doc.Counts
	d.Evaluated = []kv{
		{"test rows", count(c.TestRows)},
		{"test users / items", count(c.TestUsers) + " / " + count(c.TestItems)},
		{"rows joined with a prediction (rating metrics)", count(c.RatingRows)},
		{"cold-start rows dropped", fmt.Sprintf("%s (%s users, %s items)", count(c.ColdStartRows), count(c.ColdStartUsers), count(c.ColdStartItems))},
		{"users ranked (ranking metrics)", count(c.RankedUsers)},
		{"relevant items", count(c.RelevantItems)},
		{"catalogue items", count(c.CatalogueItems)},
	}
	if s := doc.Settings.Candidates; s != "" {
		d.Evaluated = append(d.Evaluated, kv{"candidates", s})
	}
	if doc.Model != nil {
		d.EvalModel = doc.Model.ID
	}
	d.EvalWarnings = doc.Warnings
}

// evalCurve collects the ranking metrics of doc by k: precision, recall,
// NDCG and MAP, for every k the document holds. Nil when it holds fewer
// than two values of k.
func evalCurve(doc *eval.Document) *curve {
	if doc == nil {
		return nil
	}
	ks := map[int]bool{}
	for _, m := range doc.Metrics {
		if m.K > 0 {
			ks[m.K] = true
		}
	}
	if len(ks) < 2 {
		return nil
	}
	cv := &curve{}
	for k := range ks {
		cv.K = append(cv.K, k)
	}
	sort.Ints(cv.K)
	for _, name := range []string{eval.Precision, eval.Recall, eval.NDCG, eval.MAP} {
		s := series{Name: pretty(name), Values: make([]float64, len(cv.K))}
		found := false
		for j, k := range cv.K {
			s.Values[j] = math.NaN()
			if m, ok := doc.Metrics.Get(eval.Key(name, k)); ok {
				s.Values[j], found = m.Value, true
			}
		}
		if found {
			cv.Series = append(cv.Series, s)
		}
	}
	if len(cv.Series) == 0 {
		return nil
	}
	return cv
}

// modelHistory converts the fit's per-iteration record.
func modelHistory(its []als.Iteration) *history {
	if len(its) == 0 {
		return nil
	}
	h := &history{Loss: &series{Name: "loss", Lower: true}}
	var hasRMSE, hasTime bool
	metric := ""
	for _, it := range its {
		hasRMSE = hasRMSE || it.TrainRMSE != 0
		hasTime = hasTime || it.Duration != 0
		if metric == "" {
			metric = it.Metric
		}
	}
	var trainRMSE, val *series
	if hasRMSE {
		trainRMSE = &series{Name: "training RMSE", Lower: true}
	}
	if metric != "" {
		val = &series{Name: metric, Lower: lowerIsBetter(metric)}
	}
	for _, it := range its {
		h.Iter = append(h.Iter, it.Iter)
		h.Loss.Values = append(h.Loss.Values, it.Loss)
		if trainRMSE != nil {
			trainRMSE.Values = append(trainRMSE.Values, it.TrainRMSE)
		}
		if val != nil {
			v := it.Validation
			if it.Metric != metric {
				v = math.NaN()
			}
			val.Values = append(val.Values, v)
		}
		if hasTime {
			h.Seconds = append(h.Seconds, it.Duration.Seconds())
		}
	}
	h.TrainRMSE = trainRMSE
	if val != nil {
		h.Val = []series{*val}
	}
	return h
}

// lowerIsBetter reports whether a smaller value of the named metric is
// better: errors (RMSE, MAE) and losses.
func lowerIsBetter(name string) bool {
	n := strings.ToLower(name)
	for _, p := range []string{"rmse", "mae", "mse", "loss", "error"} {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// flatten lists the members of a JSON object in document order; nested
// objects become dotted keys, other values their JSON text (strings
// unquoted).
func flatten(b []byte) ([]kv, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out []kv
	var walk func(prefix string) error
	walk = func(prefix string) error {
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return err
			}
			key := prefix + t.(string)
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return err
			}
			raw = bytes.TrimSpace(raw)
			switch {
			case len(raw) > 0 && raw[0] == '{':
				sub, err := flatten(raw)
				if err != nil {
					return err
				}
				for _, s := range sub {
					out = append(out, kv{key + "." + s.Key, s.Value})
				}
			case len(raw) > 0 && raw[0] == '"':
				var s string
				if err := json.Unmarshal(raw, &s); err != nil {
					return err
				}
				out = append(out, kv{key, s})
			default:
				out = append(out, kv{key, string(raw)})
			}
		}
		return nil
	}
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("not a JSON object")
	}
	if err := walk(""); err != nil {
		return nil, err
	}
	return out, nil
}

// FromRunDir reads the inputs of a report from a run directory written by
// `recs train`: the manifest, the model, the metrics and curves documents,
// the training split and the top-k lists, each where the manifest's Files map says (else at its default
// name). Files that do not exist are listed in Inputs.Missing — a failed
// run may stop before writing them — but a file that exists and cannot be
// read is an error. A directory with none of them is an error. Errors
// about the directory's content are *errdefs.InputError.
func FromRunDir(dir string) (Inputs, error) {
	in := Inputs{RunDir: dir}
	if st, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return in, errs.Inputf(dir, 0, "no such run directory")
		}
		return in, err
	} else if !st.IsDir() {
		return in, errs.Inputf(dir, 0, "not a directory")
	}
	found := 0
	missing := func(path string, err error) (bool, error) {
		if errors.Is(err, fs.ErrNotExist) {
			rel, rerr := filepath.Rel(dir, path)
			if rerr != nil {
				rel = path
			}
			in.Missing = append(in.Missing, rel)
			return true, nil
		}
		if err != nil {
			if !errs.IsInput(err) {
				err = &errs.InputError{Err: err} // the message names the file
			}
			return false, err
		}
		found++
		return false, nil
	}

	m, err := rundir.ReadManifest(dir)
	if _, err := missing(filepath.Join(dir, rundir.ManifestFile), err); err != nil {
		return in, err
	}
	in.Manifest = m

	if err := loadModel(&in, m.Path(dir, "model", rundir.ModelDir), missing); err != nil {
		return in, err
	}

	trainPath := m.Path(dir, "train", rundir.TrainFile)
	t, err := ratings.ReadFile(trainPath)
	if _, err := missing(trainPath, err); err != nil {
		return in, err
	}
	in.Train = t

	metricsPath := m.Path(dir, "metrics", rundir.MetricsFile)
	doc, err := eval.ReadDocumentFile(metricsPath)
	if _, err := missing(metricsPath, err); err != nil {
		return in, err
	}
	in.Metrics = doc

	curvesPath := m.Path(dir, "curves", rundir.CurvesFile)
	doc, err = eval.ReadDocumentFile(curvesPath)
	if _, err := missing(curvesPath, err); err != nil {
		return in, err
	}
	in.Curves = doc

	topPath := m.Path(dir, "topk", rundir.TopKFile)
	_, lists, err := toplist.ReadFile(topPath)
	if _, err := missing(topPath, err); err != nil {
		return in, err
	}
	in.TopK = lists

	if t, path, err := readRunTune(dir, m); err == nil {
		in.Tune = t
		found++
	} else if errors.Is(err, fs.ErrNotExist) {
		if m != nil && (len(m.Tune) > 0 || m.Files["tune"] != "") {
			rel, rerr := filepath.Rel(dir, path)
			if rerr != nil {
				rel = path
			}
			in.Missing = append(in.Missing, rel) // the run tuned, but its trials are gone
		}
	} else {
		return in, err
	}

	if found == 0 {
		return in, errs.Inputf(dir, 0, "not a run directory (none of %s found)", strings.Join(in.Missing, ", "))
	}
	return in, nil
}

package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/rundir"
	"github.com/recs-dev/recs/tune"
)

// Tune is a hyperparameter search as the report shows it: the trials of
// `recs tune` (DIR/trials.json) or of `recs train --tune`
// (RUN_DIR/tune/trials.json).
type Tune struct {
	Result tune.Result
	// Space is the space the search drew from. It gives each parameter's
	// scale and range: a log range gets a logarithmic axis spanning the
	// range, a list a category per value. Nil when unknown: the scales are
	// then guessed from the values tried (see the section's captions).
	Space *tune.Space
	// SpaceName names the space in the summary: "built-in" or a file.
	SpaceName string
}

// Files of a search's directory.
const (
	TuneResultFile = "trials.json" // tune.Result as JSON: the settings and every trial
	tuneBestFile   = "best.yaml"   // the winning configuration; its comment names the space
	tuneRunDir     = "tune"        // the folder of RUN_DIR holding the search of `recs train --tune`
)

// leaderboardRows is the number of configurations in the leaderboard.
const leaderboardRows = 10

// IsTuneDir reports whether dir is the output directory of `recs tune`: it
// holds trials.json.
func IsTuneDir(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, TuneResultFile))
	return err == nil && st.Mode().IsRegular()
}

// ReadTune reads the search in dir: trials.json, and the name of its space
// from the comment recs tune writes at the top of best.yaml ("space
// built-in." or "space FILE."); TuneSpace then loads that space when it can.
// A missing trials.json is returned as an error satisfying
// errors.Is(err, fs.ErrNotExist); one that is not a search result is an
// *errdefs.InputError naming the file.
func ReadTune(dir string) (*Tune, error) {
	path := filepath.Join(dir, TuneResultFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var res tune.Result
	if err := json.Unmarshal(b, &res); err != nil {
		var se *json.SyntaxError
		line := int64(0)
		if errors.As(err, &se) {
			// The line of the offending byte; at the end of the file, its last line.
			upto := bytes.TrimRight(b[:min(int(se.Offset), len(b))], "\n")
			line = int64(bytes.Count(upto, []byte("\n")) + 1)
		}
		return nil, errs.Inputf(path, line, "not a search result of recs tune: %v", err)
	}
	if res.Metric == "" || len(res.Trials) == 0 {
		return nil, errs.Inputf(path, 0, "not a search result of recs tune: no metric or no trials")
	}
	t := &Tune{Result: res}
	if name := spaceNameFromBest(filepath.Join(dir, tuneBestFile)); name != "" {
		t.SpaceName = name
		t.Space = TuneSpace(name)
	}
	return t, nil
}

// bestSpaceRE matches the comment of best.yaml naming the space:
// "# (trial 4, ...); strategy random, budget 6, seed 42, space built-in."
var bestSpaceRE = regexp.MustCompile(`(?m)^#.*; strategy \S+, budget -?\d+, seed -?\d+, space (.+)\.\s*$`)

// spaceNameFromBest returns the space named in best.yaml's comment, or "".
func spaceNameFromBest(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if m := bestSpaceRE.FindSubmatch(b); m != nil {
		return string(m[1])
	}
	return ""
}

// TuneSpace returns the space a search names: tune.DefaultSpace for
// "builtin" or "built-in", else the space file loaded with tune.LoadSpace.
// Nil when name is empty or the file can no longer be read (moved, edited
// into something invalid): the report then guesses the scales.
func TuneSpace(name string) *tune.Space {
	switch name {
	case "":
		return nil
	case "builtin", "built-in":
		s := tune.DefaultSpace()
		return &s
	}
	s, err := tune.LoadSpace(name)
	if err != nil {
		return nil
	}
	return &s
}

// FromTuneDir reads the output directory of `recs tune` as Inputs holding
// only the search: Write renders them as a page of the search alone.
func FromTuneDir(dir string) (Inputs, error) {
	in := Inputs{RunDir: dir}
	if st, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return in, errs.Inputf(dir, 0, "no such directory")
		}
		return in, err
	} else if !st.IsDir() {
		return in, errs.Inputf(dir, 0, "not a directory")
	}
	t, err := ReadTune(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return in, errs.Inputf(dir, 0, "not a directory of recs tune (no %s)", TuneResultFile)
	}
	if err != nil {
		return in, err
	}
	in.Tune = t
	return in, nil
}

// readRunTune reads the search of a run directory: RUN_DIR/tune/ (or where
// the manifest's Files["tune"] says), with the space that config.yaml's
// tune.space names.
func readRunTune(dir string, m *rundir.Manifest) (*Tune, string, error) {
	tdir := m.Path(dir, "tune", tuneRunDir)
	t, err := ReadTune(tdir)
	if err != nil {
		return nil, filepath.Join(tdir, TuneResultFile), err
	}
	if name := configTuneSpace(filepath.Join(dir, rundir.ConfigFile)); name != "" {
		t.SpaceName, t.Space = name, TuneSpace(name)
	}
	return t, "", nil
}

// configTuneSpace returns tune.space of a run's config.yaml, or "".
func configTuneSpace(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var c struct {
		Tune struct {
			Space string `yaml:"space"`
		} `yaml:"tune"`
	}
	if yaml.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.Tune.Space
}

// tuneSection is the page's view of a search.
type tuneSection struct {
	Intro   string
	Notes   []hint
	Figs    []figure
	Head    []string // leaderboard
	Rows    [][]string
	Caption string
	AllHead []string // every trial, by ID
	AllRows [][]string
	Summary []kv
	Winner  []kv
	WinNote string
}

// tunePoint is what a plot draws for one configuration: its best
// successful trial, and the last rung the configuration reached.
type tunePoint struct {
	Rec      tune.Record
	LastRung int
}

// configPoints returns one point per configuration with a successful
// trial, best first (tune.Leaderboard's order: by metric, then by ID).
func configPoints(trials []tune.Record, metric string) []tunePoint {
	last := map[int]int{}
	for _, t := range trials {
		last[t.Config] = max(last[t.Config], t.Rung)
	}
	var pts []tunePoint
	seen := map[int]bool{}
	for _, r := range tune.Leaderboard(trials, metric) {
		if !r.OK() || seen[r.Config] {
			continue
		}
		seen[r.Config] = true
		pts = append(pts, tunePoint{Rec: r, LastRung: last[r.Config]})
	}
	return pts
}

// varyingParams returns the parameters that take more than one value over
// the trials, in canonical order. Successive halving gives the rungs of a
// configuration different max_iter; max_iter counts as varying only when
// it differs within a rung.
func varyingParams(trials []tune.Record, halving bool) []string {
	var out []string
	for _, name := range tune.ParamNames() {
		seen := map[string]bool{}
		for _, t := range trials {
			k := tune.FormatValue(t.Params.Get(name))
			if name == "max_iter" && halving {
				k = strconv.Itoa(t.Rung) + "/" + k
			}
			seen[k] = true
		}
		n := len(seen)
		if name == "max_iter" && halving {
			rungs := map[int]bool{}
			for _, t := range trials {
				rungs[t.Rung] = true
			}
			n -= len(rungs) - 1
		}
		if n > 1 {
			out = append(out, name)
		}
	}
	return out
}

// paramFloat returns a numeric parameter value as a float64.
func paramFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// Thresholds of the search's notes.
const (
	// A best value closer to an end of its range than this share of the
	// range's width (of its logarithm for log ranges) is "at the edge".
	tuneEdgeFrac = 0.05
	// Without the space, a best value that is the smallest or largest of at
	// least this many distinct values tried is "at the edge".
	tuneEdgeMinValues = 4
)

// paramScale says how a parameter is plotted.
type paramScale struct {
	Cats   []string // categories in axis order; nil: a numeric axis
	Log    bool
	Lo, Hi float64 // numeric axis range
	Range  bool    // Lo, Hi are the space's range (else the values tried)
	Why    string  // the scale, for the caption
}

// scaleOf decides the axis of parameter name from the space's dimension
// when known, else from the values tried:
//   - true/false and text parameters, and lists in the space: a category
//     per value (every listed value, tried or not);
//   - ranges in the space: a numeric axis over the range, logarithmic when
//     the range is;
//   - without the space: a category per value when at most 6 distinct
//     numbers repeat over the trials (a list), else a numeric axis over
//     the values, logarithmic when they are positive and span more than
//     two decades (max/min > 100).
func scaleOf(name string, pts []tunePoint, all []tune.Record, space *tune.Space) paramScale {
	var dim *tune.Dim
	if space != nil {
		for j := range space.Dims {
			if space.Dims[j].Name == name {
				dim = &space.Dims[j]
			}
		}
	}
	vals := map[string]any{}
	lo, hi := math.Inf(1), math.Inf(-1)
	numeric := true
	for _, t := range all {
		v := t.Params.Get(name)
		vals[tune.FormatValue(v)] = v
		if f, ok := paramFloat(v); ok {
			lo, hi = math.Min(lo, f), math.Max(hi, f)
		} else {
			numeric = false
		}
	}
	cats := func(extra []any) paramScale {
		for _, v := range extra {
			vals[tune.FormatValue(v)] = v
		}
		keys := make([]string, 0, len(vals))
		for k := range vals {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			a, aok := paramFloat(vals[keys[i]])
			b, bok := paramFloat(vals[keys[j]])
			if aok && bok && a != b {
				return a < b
			}
			return keys[i] < keys[j] // false < true; text alphabetically
		})
		return paramScale{Cats: keys}
	}
	switch {
	case !numeric && (dim == nil || dim.Range != nil):
		return cats(nil)
	case dim != nil && dim.Range == nil:
		s := cats(dim.Values)
		s.Why = "the space lists " + strconv.Itoa(len(dim.Values)) + " values"
		return s
	case dim != nil && dim.Range.Min < dim.Range.Max:
		r := dim.Range
		s := paramScale{Lo: math.Min(r.Min, lo), Hi: math.Max(r.Max, hi), Range: true}
		s.Log = r.Log && s.Lo > 0
		if s.Log {
			s.Why = fmt.Sprintf("log scale: the space draws %s log-uniformly from [%s, %s]", name, num(r.Min), num(r.Max))
		} else {
			s.Why = fmt.Sprintf("the space draws %s uniformly from [%s, %s]", name, num(r.Min), num(r.Max))
		}
		return s
	}
	if len(vals) <= 6 && len(vals) < len(pts) {
		s := cats(nil)
		s.Why = strconv.Itoa(len(vals)) + " values tried"
		return s
	}
	s := paramScale{Lo: lo, Hi: hi}
	if lo > 0 && hi/lo > 100 {
		s.Log = true
		s.Why = fmt.Sprintf("log scale: the values tried span %.1f decades", math.Log10(hi/lo))
	}
	return s
}

// edgeNote returns a note when the best value of a numeric parameter lies
// at the edge of what was searched: the optimum may lie beyond it.
func edgeNote(name string, best float64, s paramScale, nvals int) (hint, bool) {
	if s.Cats != nil || !(s.Hi > s.Lo) {
		return hint{}, false
	}
	if s.Range {
		pos := (best - s.Lo) / (s.Hi - s.Lo)
		if s.Log {
			pos = math.Log(best/s.Lo) / math.Log(s.Hi/s.Lo)
		}
		end, side := "", ""
		switch {
		case pos <= tuneEdgeFrac:
			end, side = num(s.Lo), "bottom"
		case pos >= 1-tuneEdgeFrac:
			end, side = num(s.Hi), "top"
		default:
			return hint{}, false
		}
		return hint{Level: levelInfo, Title: "Best " + name + " at the " + side + " of its range",
			Text: fmt.Sprintf("The best trial has %s = %s, near the end %s of the range searched [%s, %s]: better values may lie beyond it; widen the range there.",
				name, num(best), end, num(s.Lo), num(s.Hi)),
			Rule: fmt.Sprintf("best value within %s of the range's width (of its logarithm for log ranges) of an end", pct(tuneEdgeFrac))}, true
	}
	if nvals < tuneEdgeMinValues || (best != s.Lo && best != s.Hi) {
		return hint{}, false
	}
	word := "smallest"
	if best == s.Hi {
		word = "largest"
	}
	return hint{Level: levelInfo, Title: "Best " + name + " is the " + word + " tried",
		Text: fmt.Sprintf("The best trial has %s = %s, the %s of the %d values tried: better values may lie beyond it.", name, num(best), word, nvals),
		Rule: fmt.Sprintf("best value is the smallest or largest of ≥ %d distinct values tried (the search space is not known, so its range is not)", tuneEdgeMinValues)}, true
}

// strategyText describes a strategy for the summary.
func strategyText(s tune.Strategy, rungs int) string {
	switch s {
	case tune.Grid:
		return "grid (every combination)"
	case tune.Random:
		return "random search"
	case tune.Halving:
		return fmt.Sprintf("successive halving (%d rungs)", rungs)
	}
	return string(s)
}

// direction says which way the metric is better.
func direction(metric string) string {
	if tune.LowerIsBetter(metric) {
		return "lower is better"
	}
	return "higher is better"
}

// tuneSummaryRows are the settings and outcome of a search.
func tuneSummaryRows(s tune.Summary, spaceName string, space *tune.Space, configs, rungs int) []kv {
	rows := []kv{{"strategy", strategyText(s.Strategy, rungs)}}
	budget := count(s.Budget) + " trials"
	if s.Strategy == tune.Grid && s.Budget == 0 {
		budget = "the whole grid"
	}
	rows = append(rows, kv{"budget", budget})
	tr := count(s.Trials) + " fitted"
	var extra []string
	if s.Failed > 0 {
		extra = append(extra, count(s.Failed)+" failed")
	}
	if s.Resumed > 0 {
		extra = append(extra, count(s.Resumed)+" read back from the journal")
	}
	if len(extra) > 0 {
		tr += " (" + strings.Join(extra, ", ") + ")"
	}
	rows = append(rows, kv{"trials", tr})
	if s.Strategy == tune.Halving && configs > 0 {
		rows = append(rows, kv{"configurations", count(configs)})
	}
	rows = append(rows, kv{"metric", "validation " + pretty(s.Metric) + ", " + direction(s.Metric)}, kv{"seed", strconv.FormatInt(s.Seed, 10)})
	if v := s.Validation; v != nil {
		text := "given validation set"
		if v.Source == "holdout" && v.Holdout != nil {
			h := v.Holdout
			text = "holdout of " + num(100*h.Ratio) + "% of the training data, " + h.Method
			if h.By != "" && h.Method != "random" {
				text += " by " + h.By
			}
			text += ", seed " + strconv.FormatInt(h.Seed, 10)
		}
		rows = append(rows, kv{"validation", text}, kv{"rows fitted / validated", count(v.FitRows) + " / " + count(v.ValidRows)})
	}
	if spaceName != "" || space != nil {
		text := spaceName
		if text == "builtin" {
			text = "built-in"
		}
		if space != nil {
			if d := spaceText(*space); d != "" {
				text = strings.TrimPrefix(text+": "+d, ": ")
			}
		}
		rows = append(rows, kv{"space", text})
	}
	rows = append(rows, kv{"search time", seconds(s.Seconds)})
	if s.Best.ID > 0 {
		b := s.Best
		text := fmt.Sprintf("trial %d: %s %s", b.ID, pretty(s.Metric), fixed(b.Metrics[s.Metric], 4))
		if b.BestIter > 0 {
			text += fmt.Sprintf(" at iteration %d of %d", b.BestIter, b.Iterations)
		}
		if s.Strategy == tune.Halving {
			text += fmt.Sprintf(" (rung %d)", b.Rung)
		}
		rows = append(rows, kv{"best", text})
	}
	return rows
}

// spaceText describes the dimensions of a space with more than one value.
func spaceText(s tune.Space) string {
	var parts []string
	for _, d := range s.Dims {
		switch {
		case d.Range != nil && d.Range.Min != d.Range.Max:
			kind := "uniform"
			if d.Range.Log {
				kind = "log-uniform"
			}
			parts = append(parts, fmt.Sprintf("%s %s [%s, %s]", d.Name, kind, num(d.Range.Min), num(d.Range.Max)))
		case len(d.Values) > 1:
			vs := make([]string, len(d.Values))
			for j, v := range d.Values {
				vs[j] = tune.FormatValue(v)
			}
			parts = append(parts, d.Name+" {"+strings.Join(vs, ", ")+"}")
		}
	}
	return strings.Join(parts, "; ")
}

// winnerRows lists the parameters the search chose: the best trial's, with
// max_iter set to its best iteration.
func winnerRows(p tune.Params) []kv {
	var rows []kv
	for _, name := range tune.ParamNames() {
		rows = append(rows, kv{name, tune.FormatValue(p.Get(name))})
	}
	return rows
}

// buildTuneSection lays out the search: t when its trials are known, else
// the summary sum a run's manifest keeps. inRun says the section is part of
// a run's report (the winner was then trained as the run's model).
func buildTuneSection(t *Tune, sum *tune.Summary, inRun bool) (*tuneSection, error) {
	ts := &tuneSection{}
	if inRun {
		ts.WinNote = "The run trained its final model with these parameters on the whole training split; its test metrics are under Evaluation. max_iter is the best trial's best iteration."
	} else {
		ts.WinNote = "Written to best.yaml as the als: section of a recs train --config file. max_iter is the best trial's best iteration."
	}
	if t == nil {
		if sum == nil {
			return nil, nil
		}
		ts.Summary = tuneSummaryRows(*sum, "", nil, 0, 0)
		ts.Winner = winnerRows(sum.BestParams)
		ts.Notes = append(ts.Notes, hint{Level: levelInfo, Title: "Trials not shown",
			Text: "This page was drawn from the run's manifest, which keeps a summary of the search; recs report RUN_DIR draws the plots and the leaderboard from tune/" + TuneResultFile + ".",
			Rule: "the trial table was not given to the report"})
		return ts, nil
	}
	res := t.Result
	pts := configPoints(res.Trials, res.Metric)
	rungs := rungCount(res.Trials)
	s := res.Summary()
	if len(pts) > 0 {
		s.Best = pts[0].Rec // the best successful trial, as Search chose it
		s.BestParams = s.Best.BestParams()
	}
	ts.Summary = tuneSummaryRows(s, t.SpaceName, t.Space, len(pts), rungs)
	if len(pts) > 0 {
		ts.Winner = winnerRows(s.BestParams)
	}
	if s.Failed > 0 {
		ts.Notes = append(ts.Notes, failureNote(res.Trials, s.Failed, len(pts) == 0))
	}
	halving := res.Strategy == tune.Halving
	varying := varyingParams(res.Trials, halving)
	if err := ts.addPlots(t, pts, varying, rungs); err != nil {
		return nil, err
	}
	metrics := tune.MetricNames(res.Trials, res.Metric)
	ts.addLeaderboard(res.Metric, halving, pts, varying, metrics)
	ts.addAllTrials(res.Trials, varying, metrics, s.Failed > 0)
	return ts, nil
}

// rungCount is the number of rungs the trials reached (1 without
// successive halving).
func rungCount(trials []tune.Record) int {
	rungs := 0
	for _, tr := range trials {
		rungs = max(rungs, tr.Rung+1)
	}
	return rungs
}

// failureNote says how many of the trials failed, quoting the first
// failure; it is a warning when no trial succeeded.
func failureNote(trials []tune.Record, failed int, none bool) hint {
	first := ""
	for _, tr := range trials {
		if !tr.OK() {
			first = fmt.Sprintf("trial %d: %s", tr.ID, tr.Error)
			break
		}
	}
	lv := levelInfo
	if none {
		lv = levelBad
	}
	return hint{Level: lv, Title: fmt.Sprintf("%d of %d trials failed", failed, len(trials)),
		Text: "Failed trials are left out of the plots. First failure: " + first + ".", Rule: "any trial with an error"}
}

// addPlots draws the validation metric against each parameter the search
// varied, one point per configuration, with a note where the best value
// lies at the edge of what was searched.
func (ts *tuneSection) addPlots(t *Tune, pts []tunePoint, varying []string, rungs int) error {
	res := t.Result
	metric := res.Metric
	halving := res.Strategy == tune.Halving
	unit := "trial"
	if halving {
		unit = "configuration, at its best trial"
	}
	ts.Intro = fmt.Sprintf("Validation %s (%s) against each parameter the search varied: one point per %s; the orange ring marks the best trial. ",
		pretty(metric), direction(metric), unit)
	if halving {
		ts.Intro += "Colours show the last rung of successive halving a configuration reached: later rungs fit more iterations, so their values are higher than the first rung's for the same parameters. "
	}
	ts.Intro += "Parameters the search did not vary are listed with the winner."
	lg := tuneLegend(res.Trials, pts, rungs)
	for _, name := range varying {
		sc := scaleOf(name, pts, res.Trials, t.Space)
		out, err := tunePlot(name, metric, pts, sc, rungs)
		if err != nil {
			return err
		}
		if out == "" {
			continue
		}
		var caption []string
		if sc.Why != "" {
			caption = append(caption, strings.ToUpper(sc.Why[:1])+sc.Why[1:]+".")
		}
		if len(pts) > 0 {
			caption = append(caption, fmt.Sprintf("Best: %s = %s (trial %d).", name, tune.FormatValue(pts[0].Rec.Params.Get(name)), pts[0].Rec.ID))
			if f, ok := paramFloat(pts[0].Rec.Params.Get(name)); ok {
				distinct := map[string]bool{}
				for _, tr := range res.Trials {
					distinct[tune.FormatValue(tr.Params.Get(name))] = true
				}
				if h, ok := edgeNote(name, f, sc, len(distinct)); ok {
					ts.Notes = append(ts.Notes, h)
				}
			}
		}
		ts.Figs = append(ts.Figs, figure{Title: pretty(metric) + " against " + name, SVG: template.HTML(out), Legend: lg, Caption: strings.Join(caption, " ")})
	}
	return nil
}

// addLeaderboard tabulates the best configurations, each by its best
// trial.
func (ts *tuneSection) addLeaderboard(metric string, halving bool, pts []tunePoint, varying, metrics []string) {
	ts.Head = []string{"#", "trial"}
	if halving {
		ts.Head = append(ts.Head, "rung")
	}
	ts.Head = append(ts.Head, varying...)
	for _, m := range metrics {
		ts.Head = append(ts.Head, pretty(m))
	}
	ts.Head = append(ts.Head, "best iteration", "fit time")
	for j, p := range pts {
		if j == leaderboardRows {
			break
		}
		r := p.Rec
		row := []string{strconv.Itoa(j + 1), strconv.Itoa(r.ID)}
		if halving {
			row = append(row, strconv.Itoa(r.Rung))
		}
		row = append(row, paramCells(r.Params, varying)...)
		row = append(row, metricCells(r, metrics)...)
		row = append(row, iterText(r), seconds(r.FitSeconds))
		ts.Rows = append(ts.Rows, row)
	}
	what := "trials"
	if halving {
		what = "configurations (each by its best trial; a configuration is fitted once per rung it reaches)"
	}
	ts.Caption = fmt.Sprintf("The %d best of %d %s by validation %s, %s. Best iteration: the iteration whose model the metrics describe, of the iterations fitted (early stopping ends a trial after its metric stops improving).",
		len(ts.Rows), len(pts), what, pretty(metric), direction(metric))
	if len(ts.Rows) == len(pts) {
		ts.Caption = fmt.Sprintf("All %d %s by validation %s, %s. Best iteration: the iteration whose model the metrics describe, of the iterations fitted (early stopping ends a trial after its metric stops improving).",
			len(pts), what, pretty(metric), direction(metric))
	}
}

// addAllTrials tabulates every trial, by ID, with its error when any trial
// failed.
func (ts *tuneSection) addAllTrials(trials []tune.Record, varying, metrics []string, failures bool) {
	ts.AllHead = []string{"trial", "config", "rung"}
	ts.AllHead = append(ts.AllHead, varying...)
	for _, m := range metrics {
		ts.AllHead = append(ts.AllHead, pretty(m))
	}
	ts.AllHead = append(ts.AllHead, "best iteration", "fit time")
	if failures {
		ts.AllHead = append(ts.AllHead, "error")
	}
	all := append([]tune.Record(nil), trials...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	for _, r := range all {
		row := []string{strconv.Itoa(r.ID), strconv.Itoa(r.Config), strconv.Itoa(r.Rung)}
		row = append(row, paramCells(r.Params, varying)...)
		row = append(row, metricCells(r, metrics)...)
		it := iterText(r)
		if !r.OK() {
			it = "—"
		}
		row = append(row, it, seconds(r.FitSeconds))
		if failures {
			row = append(row, r.Error)
		}
		ts.AllRows = append(ts.AllRows, row)
	}
}

func paramCells(p tune.Params, names []string) []string {
	out := make([]string, len(names))
	for j, name := range names {
		v := p.Get(name)
		if f, ok := v.(float64); ok {
			out[j] = num(f)
		} else {
			out[j] = tune.FormatValue(v)
		}
	}
	return out
}

func metricCells(r tune.Record, metrics []string) []string {
	out := make([]string, len(metrics))
	for j, m := range metrics {
		out[j] = "—"
		if v, ok := r.Metrics[m]; ok {
			out[j] = fixed(v, 4)
		}
		if !r.OK() && j == 0 {
			out[j] = "failed"
		}
	}
	return out
}

// iterText is "best of fitted", e.g. "4 of 6".
func iterText(r tune.Record) string {
	if r.BestIter == 0 {
		return strconv.Itoa(r.Iterations)
	}
	return fmt.Sprintf("%d of %d", r.BestIter, r.Iterations)
}

// tuneCards are the headline numbers of a page showing a search alone.
func tuneCards(t *Tune) []card {
	res := t.Result
	pts := configPoints(res.Trials, res.Metric)
	var cs []card
	if len(pts) > 0 {
		b := pts[0].Rec
		cs = append(cs, card{Label: "validation " + pretty(res.Metric), Value: fixed(b.Metrics[res.Metric], 4), Note: "best: trial " + strconv.Itoa(b.ID)})
	}
	rungs := rungCount(res.Trials)
	cs = append(cs, card{Label: "trials", Value: count(len(res.Trials)), Note: strategyText(res.Strategy, rungs)})
	note := ""
	if res.Resumed > 0 {
		note = count(res.Resumed) + " trials resumed"
	}
	cs = append(cs, card{Label: "search time", Value: seconds(res.Seconds), Note: note})
	if v := res.Validation; v != nil {
		cs = append(cs, card{Label: "validation rows", Value: count(v.ValidRows), Note: "fitted on " + count(v.FitRows)})
	}
	return cs
}

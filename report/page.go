package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/recs-dev/recs/rundir"
	"github.com/recs-dev/recs/tune"
)

// data is everything the page shows, in the report's own terms.
type data struct {
	RunDir    string
	Manifest  *rundir.Manifest
	Model     *modelInfo
	Params    []kv
	History   *history
	K         int      // the k of Metrics; 0 when unknown
	Metrics   []metric // at K, in the evaluator's order
	Evaluated []kv     // users/items evaluated, cold rows dropped, ...
	Curves    *curve
	Ratings   *ratingStats
	Pop       *popularity
	Missing   []string // files of the run directory that were not found

	EvalModel    string   // model id the metrics document names
	EvalWarnings []string // the evaluator's warnings

	Tune     *Tune         // the hyperparameter search, with its trials
	TuneSum  *tune.Summary // the search's summary from the manifest, when Tune is nil
	TuneOnly bool          // the page shows the search alone (recs tune's directory)
}

// modelInfo is the identity and shape of the model.
type modelInfo struct {
	ID                 string
	Rank, Users, Items int
	Implicit           *bool // nil when the model does not record its parameters
}

// metric returns the metric named name (case-insensitive).
func (d *data) metric(name string) (metric, bool) {
	for _, m := range d.Metrics {
		if strings.EqualFold(m.Name, name) {
			return m, true
		}
	}
	return metric{}, false
}

// figure is one rendered plot with its heading and caption.
type figure struct {
	Title   string
	SVG     template.HTML
	Legend  []legendEntry
	Caption string
}

// page is the template's view.
type page struct {
	Title    string
	Subtitle string
	Status   string // "ok", "regression", ... or ""
	Cards    []card
	Hints    []hint

	Training   []figure
	IterHead   []string
	IterRows   [][]string
	Ranking    []figure
	MetricRows []metricRow
	Evaluated  []kv
	DataFigs   []figure
	DataRows   []kv
	PopFigs    []figure
	PopRows    []kv
	Tune       *tuneSection
	TuneOnly   bool
	Params     []kv
	Model      []kv

	Run       []kv
	Inputs    [][]string
	Split     []kv
	Steps     []stepRow
	StepTotal string
	Gate      []kv
	Published []kv
	Footer    string
}

type card struct{ Label, Value, Note, Class string }

type metricRow struct{ Name, Value, Better, Def string }

type stepRow struct {
	Name, Wall, RSS string
	WallPct, RSSPct float64 // bar lengths, 0–100
}

// render lays out d as HTML on w.
func render(w io.Writer, d *data) error {
	pg, err := layout(d)
	if err != nil {
		return err
	}
	if err := pageTmpl.Execute(w, pg); err != nil {
		return fmt.Errorf("report: writing HTML: %w", err)
	}
	return nil
}

func layout(d *data) (*page, error) {
	pg := &page{Title: "Training report"}
	m := d.Manifest
	if m != nil && m.RunID != "" {
		pg.Title = "Training report · " + m.RunID
		pg.Status = m.Status
	}
	var sub []string
	if d.RunDir != "" {
		sub = append(sub, d.RunDir)
	}
	if m != nil && !m.Started.IsZero() {
		sub = append(sub, "started "+m.Started.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	pg.Subtitle = strings.Join(sub, " · ")

	ts, err := buildTuneSection(d.Tune, d.TuneSum, !d.TuneOnly)
	if err != nil {
		return nil, err
	}
	pg.Tune = ts
	if d.TuneOnly {
		pg.Title, pg.TuneOnly = "Search report", true
		pg.Cards = tuneCards(d.Tune)
		pg.Footer = "Written by recs. Plots made with gonum.org/v1/plot."
		return pg, nil
	}
	pg.Cards = cards(d)
	pg.Hints = diagnose(d)

	if err := trainingSection(d, pg); err != nil {
		return nil, err
	}
	if err := rankingSection(d, pg); err != nil {
		return nil, err
	}
	if err := dataSection(d, pg); err != nil {
		return nil, err
	}
	if err := popSection(d, pg); err != nil {
		return nil, err
	}
	pg.Params = d.Params
	if mi := d.Model; mi != nil {
		if mi.ID != "" {
			pg.Model = append(pg.Model, kv{"model id", mi.ID})
		}
		pg.Model = append(pg.Model, kv{"rank", count(mi.Rank)}, kv{"users with factors", count(mi.Users)}, kv{"items with factors", count(mi.Items)})
	}
	if m != nil {
		runSection(m, pg)
	}
	pg.Footer = "Written by recs"
	if m != nil && m.ToolVersion != "" {
		pg.Footer += " " + m.ToolVersion
	}
	pg.Footer += ". Plots made with gonum.org/v1/plot. Thresholds of the health checks are stated with each hint."
	return pg, nil
}

// cards are the headline numbers at the top of the page.
func cards(d *data) []card {
	var cs []card
	if m := d.Manifest; m != nil && m.Status != "" {
		c := card{Label: "status", Value: m.Status, Class: "bad"}
		if m.Status == "ok" {
			c.Class = "ok"
		}
		if !m.Started.IsZero() && !m.Finished.IsZero() {
			c.Note = "in " + seconds(m.Finished.Sub(m.Started).Seconds())
		}
		if g := m.Gate; g != nil {
			if g.Passed {
				c.Note = strings.TrimPrefix(c.Note+"; gate passed", "; ")
			} else {
				c.Note = strings.TrimPrefix(c.Note+"; gate failed", "; ")
			}
		}
		cs = append(cs, c)
	}
	suffix := ""
	if d.K > 0 {
		suffix = fmt.Sprintf("@%d", d.K)
	}
	names := []string{"ndcg", "precision", "recall", "map", "rmse"}
	if mi := d.Model; mi != nil && mi.Implicit != nil && *mi.Implicit {
		names = names[:4] // an implicit model predicts preference, not ratings
	}
	for _, name := range names {
		for _, mt := range d.Metrics {
			base := strings.ToLower(mt.Name)
			if i := strings.IndexByte(base, '@'); i >= 0 {
				base = base[:i]
			}
			if base == name {
				label := pretty(mt.Name)
				if !strings.Contains(label, "@") && name != "rmse" {
					label += suffix
				}
				cs = append(cs, card{Label: label, Value: fixed(mt.Value, 4)})
				break
			}
		}
	}
	if p := d.Pop; p != nil && p.Slots > 0 {
		cs = append(cs, card{Label: "catalogue coverage", Value: pct(p.Coverage()),
			Note: count(p.Recommend) + " of " + count(len(p.Train)) + " items"})
	}
	if r := d.Ratings; r != nil {
		cs = append(cs, card{Label: "training ratings", Value: count(r.Rows),
			Note: count(r.Users) + " users × " + count(r.Items) + " items"})
	}
	return cs
}

func trainingSection(d *data, pg *page) error {
	h := d.History
	if h == nil || len(h.Iter) == 0 {
		return nil
	}
	add := func(title, caption, ylabel string, ss []series, colors []int, ring int) error {
		s, lg, err := iterPlot(h, ylabel, ss, colors, ring)
		if err != nil {
			return err
		}
		pg.Training = append(pg.Training, figure{Title: title, SVG: template.HTML(s), Legend: lg, Caption: caption})
		return nil
	}
	if h.Loss != nil {
		if err := add("Training loss per iteration",
			"The regularised objective ALS minimises. It should fall every iteration and flatten out.",
			"loss", []series{*h.Loss}, []int{0}, -1); err != nil {
			return err
		}
	}
	trainShown := false
	for _, v := range h.Val {
		dir := "higher is better"
		if v.Lower {
			dir = "lower is better"
		}
		vs := v
		vs.Name = "validation " + pretty(v.Name)
		caption := "On the validation set, " + dir + "; the ring marks the best iteration. A validation curve that turns back up (RMSE) or down (NDCG) while training keeps improving is overfitting."
		if h.TrainRMSE != nil && strings.HasPrefix(strings.ToLower(v.Name), "rmse") && !trainShown {
			trainShown = true
			if err := add("RMSE per iteration: training and validation", caption, "RMSE",
				[]series{*h.TrainRMSE, vs}, []int{0, 1}, 1); err != nil {
				return err
			}
			continue
		}
		if err := add("Validation "+pretty(v.Name)+" per iteration", caption, vs.Name, []series{vs}, []int{1}, 0); err != nil {
			return err
		}
	}
	if h.TrainRMSE != nil && !trainShown {
		if err := add("Training RMSE per iteration", "RMSE of the model on its own training ratings.",
			"training RMSE", []series{*h.TrainRMSE}, []int{0}, -1); err != nil {
			return err
		}
	}
	pg.IterHead = []string{"iteration"}
	cols := []*series{}
	if h.Loss != nil {
		cols = append(cols, h.Loss)
	}
	if h.TrainRMSE != nil {
		cols = append(cols, h.TrainRMSE)
	}
	for j := range h.Val {
		cols = append(cols, &h.Val[j])
	}
	for _, c := range cols {
		name := c.Name
		if c != h.Loss && c != h.TrainRMSE {
			name = "validation " + pretty(name)
		}
		pg.IterHead = append(pg.IterHead, name)
	}
	if h.Seconds != nil {
		pg.IterHead = append(pg.IterHead, "wall time")
	}
	for j, it := range h.Iter {
		row := []string{fmt.Sprint(it)}
		for _, c := range cols {
			if c == h.Loss {
				row = append(row, num(c.Values[j]))
			} else {
				row = append(row, fixed(c.Values[j], 4))
			}
		}
		if h.Seconds != nil {
			row = append(row, seconds(h.Seconds[j]))
		}
		pg.IterRows = append(pg.IterRows, row)
	}
	return nil
}

func rankingSection(d *data, pg *page) error {
	if s, lg, err := curvePlot(d.Curves, d.K); err != nil {
		return err
	} else if s != "" {
		c := "Ranking metrics of each user's top k, for k = 1…" + fmt.Sprint(d.Curves.K[len(d.Curves.K)-1]) + "."
		if d.K > 0 {
			c += fmt.Sprintf(" The dashed line marks the configured k = %d.", d.K)
		}
		pg.Ranking = append(pg.Ranking, figure{Title: "Ranking quality as k grows", SVG: template.HTML(s), Legend: lg, Caption: c})
	}
	for _, mt := range d.Metrics {
		b := "higher"
		if mt.Lower {
			b = "lower"
		}
		pg.MetricRows = append(pg.MetricRows, metricRow{Name: pretty(mt.Name), Value: fixed(mt.Value, 6), Better: b, Def: mt.Def})
	}
	pg.Evaluated = d.Evaluated
	return nil
}

func dataSection(d *data, pg *page) error {
	r := d.Ratings
	if r == nil {
		return nil
	}
	s, err := ratingPlot(r)
	if err != nil {
		return err
	}
	if s != "" {
		pg.DataFigs = append(pg.DataFigs, figure{Title: "Rating distribution (training split)", SVG: template.HTML(s),
			Caption: "Number of training ratings per value."})
	}
	pg.DataRows = []kv{
		{"ratings", count(r.Rows)},
		{"users", count(r.Users)},
		{"items", count(r.Items)},
		{"density", pct(r.Density)},
		{"mean rating", num(r.Mean)},
		{"standard deviation", num(r.Std)},
		{"range", num(r.Min) + " – " + num(r.Max)},
	}
	if r.Rows > 0 && r.Users > 0 && r.Items > 0 {
		pg.DataRows = append(pg.DataRows[:4],
			append([]kv{{"ratings per user (mean)", num(float64(r.Rows) / float64(r.Users))},
				{"ratings per item (mean)", num(float64(r.Rows) / float64(r.Items))}}, pg.DataRows[4:]...)...)
	}
	return nil
}

func popSection(d *data, pg *page) error {
	p := d.Pop
	if p == nil || len(p.Train) == 0 {
		return nil
	}
	s, lg, err := tailPlot(p)
	if err != nil {
		return err
	}
	if p.Slots > 0 {
		pg.PopFigs = append(pg.PopFigs, figure{Title: "Long tail: popularity against recommendations", SVG: template.HTML(s), Legend: lg,
			Caption: "Items sorted by number of training ratings (blue). Orange: how many users have the item in their top " + fmt.Sprint(p.K) + ". Orange piled at the left is popularity bias; orange spread thinly far right is lists built from rarely rated items."})
		s2, lg2, err := sharePlot(p)
		if err != nil {
			return err
		}
		pg.PopFigs = append(pg.PopFigs, figure{Title: "Concentration: cumulative share held by the most rated items", SVG: template.HTML(s2), Legend: lg2,
			Caption: "How much of the training ratings and of the recommendations go to the most rated x% of items. A recommendation curve above the training curve concentrates on hits."})
	} else {
		pg.PopFigs = append(pg.PopFigs, figure{Title: "Long tail: item popularity", SVG: template.HTML(s), Legend: lg,
			Caption: "Items sorted by number of training ratings. No top-k lists were given, so recommendation counts are not shown."})
	}
	rows := []kv{{"items with training ratings", count(len(p.Train))}}
	if p.Slots > 0 {
		t1, r1, n1 := p.HeadShare(0.01)
		t10, r10, n10 := p.HeadShare(0.10)
		rows = append(rows,
			kv{"users with a list", count(p.Users)},
			kv{"recommendations (slots)", count(p.Slots)},
			kv{"distinct items recommended", count(p.Recommend)},
			kv{"catalogue coverage", pct(p.Coverage())},
			kv{fmt.Sprintf("top 1%% items (%s): share of ratings → of recommendations", count(n1)), pct(t1) + " → " + pct(r1)},
			kv{fmt.Sprintf("top 10%% items (%s): share of ratings → of recommendations", count(n10)), pct(t10) + " → " + pct(r10)},
			kv{fmt.Sprintf("recommendations of items with < %d ratings", rareCount), pct(p.RareShare(rareCount))},
			kv{"popularity lift (mean ratings of a recommended item ÷ of a catalogue item)", fixed(p.Lift(), 2) + "×"},
			kv{"Gini of training counts", fixed(gini(p.Train), 3)},
			kv{"Gini of recommendation counts", fixed(gini(p.Recs), 3)},
		)
	}
	pg.PopRows = rows
	return nil
}

func runSection(m *rundir.Manifest, pg *page) {
	pg.Run = []kv{{"run id", m.RunID}, {"status", m.Status}, {"exit code", fmt.Sprint(m.ExitCode)}}
	if m.Error != "" {
		pg.Run = append(pg.Run, kv{"error", m.Error})
	}
	if m.ToolVersion != "" {
		pg.Run = append(pg.Run, kv{"recs version", m.ToolVersion})
	}
	if !m.Started.IsZero() {
		pg.Run = append(pg.Run, kv{"started", m.Started.UTC().Format("2006-01-02 15:04:05 UTC")})
	}
	if !m.Finished.IsZero() {
		pg.Run = append(pg.Run, kv{"finished", m.Finished.UTC().Format("2006-01-02 15:04:05 UTC")})
		if !m.Started.IsZero() {
			pg.Run = append(pg.Run, kv{"duration", seconds(m.Finished.Sub(m.Started).Seconds())})
		}
	}
	for _, in := range m.Inputs {
		sha := in.SHA256
		if len(sha) > 16 {
			sha = sha[:16] + "…"
		}
		pg.Inputs = append(pg.Inputs, []string{in.Source, count(in.Rows), sha})
	}
	s := m.Split
	if s.Method != "" {
		method := s.Method
		if s.By != "" {
			method += " by " + s.By
		}
		ratios := make([]string, len(s.Ratios))
		for j, r := range s.Ratios {
			ratios[j] = num(r)
		}
		pg.Split = []kv{{"method", method}, {"ratios", strings.Join(ratios, " / ")}, {"seed", fmt.Sprint(s.Seed)},
			{"train rows", count(s.TrainRows)}, {"test rows", count(s.TestRows)},
			{"cold-start test rows", fmt.Sprintf("%s (%s users, %s items)", count(s.ColdRows), count(s.ColdUsers), count(s.ColdItems))}}
	}
	var maxW, maxR, total float64
	for _, st := range m.Steps {
		maxW, maxR = math.Max(maxW, st.WallS), math.Max(maxR, st.PeakRSSMB)
		total += st.WallS
	}
	for _, st := range m.Steps {
		r := stepRow{Name: st.Name, Wall: seconds(st.WallS), RSS: num(st.PeakRSSMB) + " MB"}
		if maxW > 0 {
			r.WallPct = math.Round(1000*st.WallS/maxW) / 10
		}
		if maxR > 0 {
			r.RSSPct = math.Round(1000*st.PeakRSSMB/maxR) / 10
		}
		pg.Steps = append(pg.Steps, r)
	}
	if len(m.Steps) > 0 {
		pg.StepTotal = seconds(total)
	}
	if g := m.Gate; g != nil {
		res := "passed"
		if !g.Passed {
			res = "failed"
		}
		pg.Gate = []kv{{"baseline", g.Baseline}, {"result", res}}
		if len(g.Failed) > 0 {
			f := append([]string(nil), g.Failed...)
			sort.Strings(f)
			pg.Gate = append(pg.Gate, kv{"regressed metrics", strings.Join(f, ", ")})
		}
	}
	if p := m.Published; p != nil {
		pg.Published = []kv{{"sink", p.Sink}, {"target", p.Target}, {"documents", count(int(p.Documents))}}
	}
}

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"upper": strings.ToUpper,
	"label": func(l level) string {
		return [...]string{"OK", "NOTE", "WARNING", "PROBLEM"}[l]
	},
}).Parse(pageHTML))

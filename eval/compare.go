package eval

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/recs-dev/recs/internal/errs"
)

// Allowance is how much one metric may get worse than its baseline.
type Allowance struct {
	Key string  // metric key ("ndcg@10", "rmse"), or "*" for every metric not named
	Max float64 // ≥ 0, in the metric's own units
}

// ParseAllowances parses "ndcg@10=0.01,rmse=0.005" (the --max-regression
// syntax). A key "*" sets the allowance of every metric not named. Keys
// must be well-formed metric keys (a rating metric without @k, a ranking
// metric with one); values finite and ≥ 0.
func ParseAllowances(s string) ([]Allowance, error) {
	var out []Allowance
	seen := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		key, val, ok := strings.Cut(f, "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if !ok {
			return nil, fmt.Errorf("allowance %q: want METRIC=AMOUNT, e.g. ndcg@10=0.01", f)
		}
		if key != "*" {
			if _, _, err := SplitKey(key); err != nil {
				return nil, err
			}
		}
		v, err := strconv.ParseFloat(val, 64)
		if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			return nil, fmt.Errorf("allowance %q: %q is not a number ≥ 0", f, val)
		}
		if seen[key] {
			return nil, fmt.Errorf("allowance for %s given twice", key)
		}
		seen[key] = true
		out = append(out, Allowance{Key: key, Max: v})
	}
	if len(out) == 0 {
		return nil, errors.New("no allowance given (want METRIC=AMOUNT[,...], e.g. ndcg@10=0.01,rmse=0.005)")
	}
	return out, nil
}

// Row is one metric of a comparison.
type Row struct {
	Key           string
	Baseline      float64
	Current       float64
	InBaseline    bool
	InCurrent     bool
	Delta         float64  // Current − Baseline
	Worse         float64  // how much worse Current is, direction-aware (negative: better)
	LowerIsBetter bool     // RMSE, MAE
	Allowed       *float64 // nil: not gated
	Regressed     bool     // Worse > *Allowed
}

// Comparison is a side-by-side view of two metrics documents.
type Comparison struct {
	Rows  []Row
	Notes []string // settings that differ between the documents
}

// Regressed returns the rows that failed their allowance.
func (c *Comparison) Regressed() []Row {
	var out []Row
	for _, r := range c.Rows {
		if r.Regressed {
			out = append(out, r)
		}
	}
	return out
}

// slack absorbs float64 noise in Worse so that a change of exactly the
// allowance passes: 1e-12 relative to the baseline (at least 1e-12).
func slack(base float64) float64 { return 1e-12 * math.Max(1, math.Abs(base)) }

// Compare sets current against baseline. With allow nil, every metric in
// both documents is gated with allowance 0 (nothing may get worse);
// otherwise the metrics named in allow are gated with their allowances,
// "*" gates every other metric in both documents, and metrics neither
// named nor covered by "*" are shown but not gated. Direction: RMSE and MAE
// regress when they grow, every other metric when it falls.
//
// The error is non-nil when a named metric is missing from either document
// (plain error), or when any gated metric regressed: then it wraps
// errdefs.ErrRegression and names each regression; the comparison is returned
// in both cases.
func Compare(baseline, current *Document, allow []Allowance) (*Comparison, error) {
	c := &Comparison{}
	byKey := map[string]*Row{}
	var union Metrics
	for _, m := range baseline.Metrics {
		r := &Row{Key: m.Key(), Baseline: m.Value, InBaseline: true, LowerIsBetter: LowerIsBetter(m.Name)}
		byKey[r.Key] = r
		union = append(union, m)
	}
	for _, m := range current.Metrics {
		r, ok := byKey[m.Key()]
		if !ok {
			r = &Row{Key: m.Key(), LowerIsBetter: LowerIsBetter(m.Name)}
			byKey[r.Key] = r
			union = append(union, m)
		}
		r.Current, r.InCurrent = m.Value, true
	}
	sortMetrics(union)

	var missing []string
	var star *float64
	named := map[string]float64{}
	for _, a := range allow {
		if a.Key == "*" {
			v := a.Max
			star = &v
			continue
		}
		named[a.Key] = a.Max
		r, ok := byKey[a.Key]
		switch {
		case !ok || !r.InBaseline && !r.InCurrent:
			missing = append(missing, a.Key+" (in neither document)")
		case !r.InBaseline:
			missing = append(missing, a.Key+" (not in the baseline)")
		case !r.InCurrent:
			missing = append(missing, a.Key+" (not in the current metrics)")
		}
	}
	if allow == nil {
		zero := 0.0
		star = &zero
	}

	var failed []string
	for _, m := range union {
		r := byKey[m.Key()]
		if r.InBaseline && r.InCurrent {
			r.Delta = r.Current - r.Baseline
			r.Worse = -r.Delta
			if r.LowerIsBetter {
				r.Worse = r.Delta
			}
			if v, ok := named[r.Key]; ok {
				r.Allowed = &v
			} else if star != nil {
				v := *star
				r.Allowed = &v
			}
			if r.Allowed != nil && r.Worse > *r.Allowed+slack(r.Baseline) {
				r.Regressed = true
				dir := "fell"
				if r.LowerIsBetter {
					dir = "rose"
				}
				failed = append(failed, fmt.Sprintf("%s %s by %.6g (from %.6g to %.6g; allowed %g)", r.Key, dir, r.Worse, r.Baseline, r.Current, *r.Allowed))
			}
		}
		c.Rows = append(c.Rows, *r)
	}
	c.Notes = settingsNotes(baseline.Settings, current.Settings)
	if len(missing) > 0 {
		return c, fmt.Errorf("cannot gate on %s", strings.Join(missing, ", "))
	}
	if len(failed) > 0 {
		return c, fmt.Errorf("%w: %s", errs.ErrRegression, strings.Join(failed, "; "))
	}
	return c, nil
}

func settingsNotes(b, c Settings) []string {
	var notes []string
	thr := func(t *float64) string {
		if t == nil {
			return "every rating"
		}
		return fmt.Sprintf("ratings ≥ %g", *t)
	}
	if thr(b.RelevanceThreshold) != thr(c.RelevanceThreshold) {
		notes = append(notes, fmt.Sprintf("relevance differs: baseline %s, current %s", thr(b.RelevanceThreshold), thr(c.RelevanceThreshold)))
	}
	if b.Candidates != "" && c.Candidates != "" && b.Candidates != c.Candidates {
		notes = append(notes, fmt.Sprintf("candidates differ: baseline %q, current %q", b.Candidates, c.Candidates))
	}
	return notes
}

// WriteTable prints the comparison: metric, baseline, current, delta, the
// allowance and the verdict, one metric per line.
func (c *Comparison) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tbaseline\tcurrent\tdelta\tallowed\tresult")
	num := func(ok bool, v float64) string {
		if !ok {
			return "-"
		}
		return strconv.FormatFloat(v, 'f', 6, 64)
	}
	for _, r := range c.Rows {
		delta, allowed, result := "-", "-", "not gated"
		if r.InBaseline && r.InCurrent {
			delta = strconv.FormatFloat(r.Delta, 'f', 6, 64)
			if r.Delta >= 0 {
				delta = "+" + delta
			}
		}
		if r.Allowed != nil {
			allowed = strconv.FormatFloat(*r.Allowed, 'g', -1, 64)
			result = "ok"
		}
		switch {
		case !r.InBaseline:
			result = "new"
		case !r.InCurrent:
			result = "missing"
		case r.Regressed:
			result = "REGRESSED"
		}
		dir := "higher is better"
		if r.LowerIsBetter {
			dir = "lower is better"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s (%s)\n", r.Key, num(r.InBaseline, r.Baseline), num(r.InCurrent, r.Current), delta, allowed, result, dir)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range c.Notes {
		if _, err := fmt.Fprintf(w, "note: %s\n", n); err != nil {
			return err
		}
	}
	return nil
}

// WriteTable prints the metrics of d for people: a summary line, then one
// metric per line with its value and the number it averages over.
func (d *Document) WriteTable(w io.Writer) error {
	var head []string
	if d.Model != nil && d.Model.ID != "" {
		head = append(head, "model "+d.Model.ID)
	}
	c := d.Counts
	head = append(head, fmt.Sprintf("%d test rows", c.TestRows))
	if c.RatingRows > 0 {
		head = append(head, fmt.Sprintf("%d joined with a prediction", c.RatingRows))
	}
	if c.ColdStartRows > 0 {
		head = append(head, fmt.Sprintf("%d cold-start rows dropped", c.ColdStartRows))
	}
	if c.RankedUsers > 0 {
		head = append(head, fmt.Sprintf("%d users ranked over %d items", c.RankedUsers, c.CatalogueItems))
	}
	if _, err := fmt.Fprintln(w, strings.Join(head, ", ")); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tvalue\tover")
	for _, m := range d.Metrics {
		over := fmt.Sprintf("%d users", m.N)
		switch {
		case slices.Contains(RatingMetrics, m.Name):
			over = fmt.Sprintf("%d rows", m.N)
		case m.Name == Coverage:
			over = fmt.Sprintf("%d items", m.N)
		}
		fmt.Fprintf(tw, "%s\t%.6f\t%s\n", m.Key(), m.Value, over)
	}
	return tw.Flush()
}

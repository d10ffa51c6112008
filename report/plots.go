package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Plot size in points. The page scales the SVG to its column width.
const (
	plotW = 360 * vg.Millimeter / 3 // 120 mm
	plotH = 75 * vg.Millimeter
)

// Palette: a colour-blind-safe set (Okabe–Ito), dark enough on white.
var (
	colBlue   = rgb(0x00, 0x72, 0xb2)
	colOrange = rgb(0xd5, 0x5e, 0x00)
	colGreen  = rgb(0x00, 0x9e, 0x73)
	colPurple = rgb(0xcc, 0x79, 0xa7)
	colGray   = rgb(0x6b, 0x72, 0x80)
	colGrid   = rgb(0xe5, 0xe7, 0xeb)
	colText   = rgb(0x1f, 0x29, 0x37)
	palette   = []color.Color{colBlue, colOrange, colGreen, colPurple, colGray}
)

func rgb(r, g, b uint8) color.Color { return color.RGBA{r, g, b, 0xff} }

var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// newPlot returns a plot in the report's style: sans-serif text, light
// horizontal grid, no title (the page gives each plot a heading).
func newPlot(xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	style := func(ts *text.Style, size vg.Length) {
		ts.Font = font.From(sans, size)
		ts.Color = colText
	}
	style(&p.X.Label.TextStyle, 10)
	style(&p.Y.Label.TextStyle, 10)
	style(&p.X.Tick.Label, 9)
	style(&p.Y.Tick.Label, 9)
	p.X.Label.Text, p.Y.Label.Text = xlabel, ylabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.LineStyle.Color = colGray
		a.Tick.LineStyle.Color = colGray
		a.Tick.Marker = niceTicks{}
	}
	g := plotter.NewGrid()
	g.Vertical.Color = nil
	g.Horizontal.Color = colGrid
	g.Horizontal.Width = 0.5
	p.Add(g)
	return p
}

// svg renders p as an SVG element for inlining in HTML: no XML prolog, the
// Liberation font names followed by their metric-compatible fallbacks so
// text measured for Liberation Sans fits whichever font the browser has.
func svg(p *plot.Plot, w, h vg.Length) (string, error) {
	c := vgsvg.New(w, h)
	p.Draw(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return "", fmt.Errorf("report: rendering plot: %w", err)
	}
	s := b.String()
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	s = strings.ReplaceAll(s, "font-family:Liberation Sans;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")
	return strings.TrimSpace(s), nil
}

// legendEntry is one entry of a plot's legend, drawn by the page in HTML
// (crisp at any zoom, never over the data). Color indexes palette.
type legendEntry struct {
	Name   string
	Color  int
	Dashed bool
	Shape  string // "": a line; "dot": a filled point; "ring": a ring
}

// line adds a line for xs/ys (NaN values skipped) to p, with point markers
// when there are few points; name labels errors.
func line(p *plot.Plot, name string, xs, ys []float64, c color.Color, dashed bool) error {
	pts := make(plotter.XYs, 0, len(xs))
	for j := range xs {
		if !math.IsNaN(ys[j]) && !math.IsInf(ys[j], 0) {
			pts = append(pts, plotter.XY{X: xs[j], Y: ys[j]})
		}
	}
	if len(pts) == 0 {
		return nil
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return fmt.Errorf("report: plot %q: %w", name, err)
	}
	l.Color, l.Width = c, 1.5
	if dashed {
		l.Dashes = []vg.Length{4, 2}
	}
	p.Add(l)
	if len(pts) <= 40 {
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return fmt.Errorf("report: plot %q: %w", name, err)
		}
		s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: 2, Shape: draw.CircleGlyph{}}
		p.Add(s)
	}
	return nil
}

// mark circles the point (x, y): the best iteration of a validation metric.
func mark(p *plot.Plot, x, y float64, c color.Color) error {
	s, err := plotter.NewScatter(plotter.XYs{{X: x, Y: y}})
	if err != nil {
		return err
	}
	s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: 5, Shape: draw.RingGlyph{}}
	p.Add(s)
	return nil
}

// vline draws a dashed vertical line at x over the current y range.
func vline(p *plot.Plot, x float64) error {
	lo, hi := p.Y.Min, p.Y.Max
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil
	}
	l, err := plotter.NewLine(plotter.XYs{{X: x, Y: lo}, {X: x, Y: hi}})
	if err != nil {
		return err
	}
	l.Color, l.Width, l.Dashes = colGray, 0.75, []vg.Length{3, 3}
	p.Add(l)
	return nil
}

// niceTicks places about five labelled ticks at multiples of 1, 2, 2.5 or
// 5 × 10^m, labelled without exponent noise (1,000 rather than 1000.0).
type niceTicks struct{ integer bool }

func (t niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: tickLabel(lo, 0)}}
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if t.integer && m == 2.5 && mag < 10 {
			continue // 2.5 would label half-iterations
		}
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	if t.integer && step < 1 {
		step = 1
	}
	dec := 0
	if step < 1 {
		dec = int(math.Ceil(-math.Log10(step) - 1e-9))
		if s := step * math.Pow(10, float64(dec)); math.Abs(s-math.Round(s)) > 1e-9 {
			dec++ // 0.25
		}
	}
	var ticks []plot.Tick
	for k := math.Ceil(lo/step - 1e-9); k*step <= hi+step*1e-9; k++ {
		v := k * step
		ticks = append(ticks, plot.Tick{Value: v, Label: tickLabel(v, dec)})
	}
	return ticks
}

func tickLabel(v float64, dec int) string {
	if math.Abs(v) < 1e-12 {
		v = 0
	}
	s := strconv.FormatFloat(v, 'f', dec, 64)
	if dec == 0 {
		return groupDigits(s)
	}
	return s
}

// The plots of the report. Each returns "" when its data is missing.

// iterPlot draws series per iteration, colours indexing palette, and
// rings the best value of series ring (-1: none).
//
// Series that fall by more than logSpan times over the fit (a loss whose
// first iteration starts far above the rest) are drawn on a logarithmic
// axis, labelled so, so that the first iteration does not flatten the
// others into a line.
func iterPlot(h *history, ylabel string, ss []series, colors []int, ring int) (string, []legendEntry, error) {
	logY := wideSpan(ss)
	if logY {
		ylabel += " (log scale)"
	}
	p := newPlot("iteration", ylabel)
	p.X.Tick.Marker = niceTicks{integer: true}
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	xs := ints(h.Iter)
	var lg []legendEntry
	for j, s := range ss {
		if err := line(p, s.Name, xs, s.Values, palette[colors[j]], false); err != nil {
			return "", nil, err
		}
		lg = append(lg, legendEntry{Name: s.Name, Color: colors[j]})
	}
	if ring >= 0 {
		if j := bestIndex(ss[ring]); j >= 0 {
			if err := mark(p, xs[j], ss[ring].Values[j], palette[colors[ring]]); err != nil {
				return "", nil, err
			}
		}
	}
	if len(ss) == 1 {
		lg = nil // the heading names the one series
	}
	out, err := svg(p, plotW, plotH)
	return out, lg, err
}

// logSpan is the ratio of the largest to the smallest value above which
// iterPlot uses a logarithmic axis (a loss falls by 5× and more in the
// first iterations, an RMSE from about 2.5 to under 1).
const logSpan = 2

// wideSpan reports whether every series is lower-is-better with positive
// finite values whose largest is more than logSpan times the smallest.
func wideSpan(ss []series) bool {
	lo, hi := math.Inf(1), 0.0
	for _, s := range ss {
		if !s.Lower {
			return false
		}
		for _, v := range s.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			if v <= 0 {
				return false
			}
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	return hi > logSpan*lo
}

// bestIndex returns the index of the best non-NaN value of s, the first on
// ties, or -1.
func bestIndex(s series) int {
	b := -1
	for j, x := range s.Values {
		if math.IsNaN(x) {
			continue
		}
		if b < 0 || (s.Lower && x < s.Values[b]) || (!s.Lower && x > s.Values[b]) {
			b = j
		}
	}
	return b
}

func curvePlot(cv *curve, k int) (string, []legendEntry, error) {
	if cv == nil || len(cv.K) == 0 {
		return "", nil, nil
	}
	p := newPlot("k (list length)", "metric value")
	p.X.Tick.Marker = niceTicks{integer: true}
	xs := ints(cv.K)
	var lg []legendEntry
	for j, s := range cv.Series {
		c := j % len(palette)
		if err := line(p, s.Name, xs, s.Values, palette[c], false); err != nil {
			return "", nil, err
		}
		lg = append(lg, legendEntry{Name: s.Name, Color: c})
	}
	p.Y.Min = math.Min(p.Y.Min, 0)
	if k > 0 && float64(k) >= p.X.Min && float64(k) <= p.X.Max {
		if err := vline(p, float64(k)); err != nil {
			return "", nil, err
		}
	}
	out, err := svg(p, plotW, plotH)
	return out, lg, err
}

func ratingPlot(rs *ratingStats) (string, error) {
	if rs == nil || rs.Rows == 0 {
		return "", nil
	}
	vals := make(plotter.Values, len(rs.Counts))
	labels := make([]string, len(rs.Counts))
	for j, c := range rs.Counts {
		vals[j] = float64(c)
		if rs.Distinct {
			labels[j] = strconv.FormatFloat(rs.Lo[j], 'f', -1, 64)
		} else if j%4 == 0 {
			labels[j] = num(rs.Lo[j])
		}
	}
	xlabel := "rating"
	if !rs.Distinct {
		xlabel = "rating (bin lower edge)"
	}
	p := newPlot(xlabel, "training ratings")
	w := vg.Length(float64(plotW-60) / float64(len(vals)) * 0.7)
	bc, err := plotter.NewBarChart(vals, min(w, 28))
	if err != nil {
		return "", fmt.Errorf("report: rating histogram: %w", err)
	}
	bc.Color, bc.LineStyle.Width = colBlue, 0
	p.Add(bc)
	p.NominalX(labels...)
	p.X.Min, p.X.Max, p.Y.Min = -0.6, float64(len(vals))-0.4, 0
	return svg(p, plotW, plotH)
}

// tailBuckets is the number of points of the long-tail plot: items are
// grouped by popularity rank so a 27,000-item catalogue plots as fast and
// small as a 1,700-item one.
const tailBuckets = 100

// tailPlot draws, by item popularity rank, the mean training count and the
// mean number of lists the items appear in.
func tailPlot(pp *popularity) (string, []legendEntry, error) {
	if pp == nil || len(pp.Train) == 0 {
		return "", nil, nil
	}
	n := len(pp.Train)
	b := min(n, tailBuckets)
	xs := make([]float64, b)
	tr := make([]float64, b)
	rc := make([]float64, b)
	for j := 0; j < b; j++ {
		lo, hi := j*n/b, (j+1)*n/b
		var st, sr int
		for i := lo; i < hi; i++ {
			st += pp.Train[i]
			sr += pp.Recs[i]
		}
		xs[j] = 100 * (float64(lo+hi) / 2) / float64(n)
		tr[j] = float64(st) / float64(hi-lo)
		rc[j] = float64(sr) / float64(hi-lo)
	}
	ylabel := "ratings / recommendations per item"
	if b < n {
		ylabel = "per item (mean of ~" + count(n/b) + " items)"
	}
	p := newPlot("items by training popularity, most rated first (percentile)", ylabel)
	if err := line(p, "training ratings", xs, tr, colBlue, false); err != nil {
		return "", nil, err
	}
	lg := []legendEntry{{Name: "training ratings", Color: 0}}
	if pp.Slots > 0 {
		if err := line(p, "times recommended", xs, rc, colOrange, false); err != nil {
			return "", nil, err
		}
		lg = append(lg, legendEntry{Name: "times recommended", Color: 1})
	}
	p.X.Min, p.X.Max, p.Y.Min = 0, 100, 0
	out, err := svg(p, plotW, plotH)
	return out, lg, err
}

// sharePlot draws the cumulative share of training ratings and of
// recommendations held by the most popular x% of items (a Lorenz curve
// read from the head), with the diagonal of a uniform catalogue.
func sharePlot(pp *popularity) (string, []legendEntry, error) {
	if pp == nil {
		return "", nil, nil
	}
	n := len(pp.Train)
	if n == 0 || pp.TrainTotal == 0 || pp.Slots-pp.Unknown == 0 {
		return "", nil, nil
	}
	const pts = 101
	xs := make([]float64, pts)
	tr := make([]float64, pts)
	rc := make([]float64, pts)
	diag := make([]float64, pts)
	var st, sr, i int
	recTotal := pp.Slots - pp.Unknown
	for j := 0; j < pts; j++ {
		upto := int(math.Round(float64(j) * float64(n) / (pts - 1)))
		for ; i < upto; i++ {
			st += pp.Train[i]
			sr += pp.Recs[i]
		}
		xs[j] = 100 * float64(upto) / float64(n)
		tr[j] = 100 * float64(st) / float64(pp.TrainTotal)
		rc[j] = 100 * float64(sr) / float64(recTotal)
		diag[j] = xs[j]
	}
	p := newPlot("most rated items (% of catalogue)", "cumulative share (%)")
	if err := line(p, "uniform", xs, diag, colGray, true); err != nil {
		return "", nil, err
	}
	if err := line(p, "training ratings", xs, tr, colBlue, false); err != nil {
		return "", nil, err
	}
	if err := line(p, "recommendations", xs, rc, colOrange, false); err != nil {
		return "", nil, err
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 100, 0, 100
	out, err := svg(p, plotW, plotH)
	lg := []legendEntry{{Name: "training ratings", Color: 0}, {Name: "recommendations", Color: 1}, {Name: "uniform catalogue", Color: 4, Dashed: true}}
	return out, lg, err
}

func ints(v []int) []float64 {
	out := make([]float64, len(v))
	for j, x := range v {
		out[j] = float64(x)
	}
	return out
}

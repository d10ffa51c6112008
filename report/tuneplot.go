package report

import (
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/recs-dev/recs/tune"
)

// rungColor is the palette index of the points of configurations whose
// last rung is r of rungs: blue for the final rung (and for searches
// without rungs), grey for the first, green and purple between.
func rungColor(r, rungs int) int {
	switch {
	case rungs <= 1 || r == rungs-1:
		return 0
	case r == 0:
		return 4
	case r == 1:
		return 2
	}
	return 3
}

// tuneLegend is the legend of the search's plots: a dot per rung the
// configurations ended at (one "trial" dot without rungs), and the ring of
// the best trial. A rung whose trials all fitted the same number of
// iterations says how many.
func tuneLegend(trials []tune.Record, pts []tunePoint, rungs int) []legendEntry {
	if len(pts) == 0 {
		return nil
	}
	best := legendEntry{Name: "best trial", Color: 1, Shape: "ring"}
	if rungs <= 1 {
		return []legendEntry{{Name: "trial", Color: 0, Shape: "dot"}, best}
	}
	iters := make([]map[int]bool, rungs)
	for r := range iters {
		iters[r] = map[int]bool{}
	}
	for _, t := range trials {
		iters[t.Rung][t.Params.MaxIter] = true
	}
	present := map[int]bool{}
	for _, p := range pts {
		present[p.LastRung] = true
	}
	var lg []legendEntry
	for r := 0; r < rungs; r++ {
		if !present[r] {
			continue
		}
		name := "dropped after rung " + strconv.Itoa(r)
		if r == rungs-1 {
			name = "reached the last rung, " + strconv.Itoa(r)
		}
		if len(iters[r]) == 1 {
			for n := range iters[r] {
				name += fmt.Sprintf(" (max_iter %d)", n)
			}
		}
		lg = append(lg, legendEntry{Name: name, Color: rungColor(r, rungs), Shape: "dot"})
	}
	return append(lg, best)
}

// jitter spreads the k-th point of a category around its centre: 0 for
// the first, then golden-ratio steps within ±0.25 of a category's width.
// Deterministic, so the page's bytes are too.
func jitter(k int) float64 {
	if k == 0 {
		return 0
	}
	f := float64(k) * 0.6180339887498949
	return (f - math.Floor(f) - 0.5) * 0.5
}

// tunePlot draws the validation metric of each configuration's best trial
// against parameter name on the axis sc, points coloured by the last rung
// the configuration reached, the best ringed. "" when there is nothing to
// draw.
func tunePlot(name, metric string, pts []tunePoint, sc paramScale, rungs int) (string, error) {
	if len(pts) == 0 {
		return "", nil
	}
	xs := make([]float64, len(pts))
	if sc.Cats != nil {
		idx := map[string]int{}
		for j, c := range sc.Cats {
			idx[c] = j
		}
		order := make([]int, len(pts))
		for j := range order {
			order[j] = j
		}
		sort.Slice(order, func(a, b int) bool { return pts[order[a]].Rec.ID < pts[order[b]].Rec.ID })
		perCat := map[int]int{}
		for _, j := range order {
			c := idx[tune.FormatValue(pts[j].Rec.Params.Get(name))]
			xs[j] = float64(c) + jitter(perCat[c])
			perCat[c]++
		}
	} else {
		for j, p := range pts {
			xs[j], _ = paramFloat(p.Rec.Params.Get(name))
		}
	}
	p := newPlot(name, "validation "+pretty(metric))
	// Draw the first rungs first, so the configurations that went further
	// are on top; within a rung by trial ID.
	for r := 0; r < max(rungs, 1); r++ {
		var xy plotter.XYs
		var ids []int
		for j, pt := range pts {
			if pt.LastRung == r || (rungs <= 1 && r == 0) {
				xy = append(xy, plotter.XY{X: xs[j], Y: pt.Rec.Metrics[metric]})
				ids = append(ids, pt.Rec.ID)
			}
		}
		if len(xy) == 0 {
			continue
		}
		sort.Sort(byID{xy, ids})
		s, err := plotter.NewScatter(xy)
		if err != nil {
			return "", fmt.Errorf("report: plot of %s: %w", name, err)
		}
		s.GlyphStyle = draw.GlyphStyle{Color: fade(palette[rungColor(r, rungs)]), Radius: 3, Shape: draw.CircleGlyph{}}
		p.Add(s)
	}
	best, err := plotter.NewScatter(plotter.XYs{{X: xs[0], Y: pts[0].Rec.Metrics[metric]}})
	if err != nil {
		return "", fmt.Errorf("report: plot of %s: %w", name, err)
	}
	best.GlyphStyle = draw.GlyphStyle{Color: colOrange, Radius: 6, Shape: thickRing{}}
	p.Add(best)

	if sc.Cats != nil {
		p.NominalX(sc.Cats...)
		p.X.Min, p.X.Max = -0.5, float64(len(sc.Cats))-0.5
	} else {
		lo, hi := math.Min(p.X.Min, sc.Lo), math.Max(p.X.Max, sc.Hi)
		if sc.Log && lo > 0 {
			if hi == lo {
				lo, hi = lo/2, hi*2
			}
			p.X.Scale = plot.LogScale{}
			p.X.Tick.Marker = logTicks{}
		} else if hi == lo {
			lo, hi = lo-1, hi+1
		}
		p.X.Min, p.X.Max = lo, hi
		if _, isInt := pts[0].Rec.Params.Get(name).(int); isInt {
			p.X.Tick.Marker = niceTicks{integer: true}
			if sc.Log {
				p.X.Tick.Marker = logTicks{}
			}
		}
	}
	if p.Y.Max == p.Y.Min {
		d := math.Max(math.Abs(p.Y.Max)*0.01, 1e-3)
		p.Y.Min, p.Y.Max = p.Y.Min-d, p.Y.Max+d
	}
	return svg(p, plotW, plotH)
}

// fade makes a point colour slightly transparent, so that overlapping
// points show as darker.
func fade(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0xcc}
}

// byID sorts points by the trial IDs beside them.
type byID struct {
	xy  plotter.XYs
	ids []int
}

func (s byID) Len() int           { return len(s.ids) }
func (s byID) Less(i, j int) bool { return s.ids[i] < s.ids[j] }
func (s byID) Swap(i, j int) {
	s.xy[i], s.xy[j] = s.xy[j], s.xy[i]
	s.ids[i], s.ids[j] = s.ids[j], s.ids[i]
}

// thickRing is a ring drawn with a 1.5 pt line, to stand out from the
// filled points it surrounds (draw.RingGlyph's line is 0.5 pt).
type thickRing struct{}

func (thickRing) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: vg.Points(1.5)})
	var path vg.Path
	path.Move(vg.Point{X: pt.X + sty.Radius, Y: pt.Y})
	path.Arc(pt, sty.Radius, 0, 2*math.Pi)
	path.Close()
	c.Stroke(path)
}

// logTicks labels a logarithmic axis: 1, 2 and 5 × 10^k when the axis
// spans less than three decades (else only the powers of ten, with
// unlabelled ticks at 2…9 × 10^k), and 1…9 × 10^k when that would leave
// fewer than two labels. Labels are plain decimals (0.2, 50, 1,000).
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: logLabel(lo)}}
	}
	labelled := []int{1, 2, 5}
	if hi/lo >= 1000 {
		labelled = []int{1}
	}
	gen := func(mults []int, minor bool) []plot.Tick {
		var ticks []plot.Tick
		for e := int(math.Floor(math.Log10(lo))) - 1; e <= int(math.Ceil(math.Log10(hi))); e++ {
			for m := 1; m <= 9; m++ {
				v := decimal(m, e)
				if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
					continue
				}
				lab := false
				for _, x := range mults {
					lab = lab || x == m
				}
				switch {
				case lab:
					ticks = append(ticks, plot.Tick{Value: v, Label: logLabel(v)})
				case minor:
					ticks = append(ticks, plot.Tick{Value: v})
				}
			}
		}
		return ticks
	}
	ticks := gen(labelled, true)
	n := 0
	for _, t := range ticks {
		if t.Label != "" {
			n++
		}
	}
	if n < 2 {
		ticks = gen([]int{1, 2, 3, 4, 5, 6, 7, 8, 9}, false)
	}
	return ticks
}

// decimal returns m × 10^e exactly as the decimal reads (0.2, not
// 0.20000000000000004).
func decimal(m, e int) float64 {
	v, _ := strconv.ParseFloat(strconv.Itoa(m)+"e"+strconv.Itoa(e), 64)
	return v
}

func logLabel(v float64) string {
	if v >= 1 {
		return groupDigits(strconv.FormatFloat(v, 'f', -1, 64))
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

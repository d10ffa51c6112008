package report

import (
	"math"
	"sort"

	"github.com/recs-dev/recs/ratings"
	"github.com/recs-dev/recs/toplist"
)

// The types in this file are the report's own view of a run: plain numbers
// the plots, tables and health checks read. Inputs is converted into them
// once (see build), so the rendering code never depends on how another
// package stores its results.

// series is one named sequence of values; NaN marks a missing value.
type series struct {
	Name   string
	Lower  bool // lower is better (RMSE, loss)
	Values []float64
}

// history is the per-iteration record of the fit.
type history struct {
	Iter      []int
	Loss      *series   // training loss (the objective); nil when not recorded
	TrainRMSE *series   // RMSE on the training ratings; nil when not recorded
	Seconds   []float64 // wall time per iteration; nil when not recorded
	Val       []series  // validation metrics, in the order the model lists them
}

// curve is ranking metrics as functions of k.
type curve struct {
	K      []int
	Series []series
}

// metric is one row of the metrics table.
type metric struct {
	Name  string
	Value float64
	Lower bool   // lower is better
	Def   string // the definition the evaluator used, when it says
}

// kv is one row of a two-column table.
type kv struct{ Key, Value string }

// ratingStats summarises the ratings of the training split.
type ratingStats struct {
	Rows, Users, Items int     // rows; users and items with at least one row
	Density            float64 // Rows / (Users*Items)
	Mean, Std          float64 // population standard deviation
	Min, Max           float64
	// Bins of the histogram: one per distinct value when there are at most
	// maxDistinct of them (rating scales), else equal-width bins.
	Lo, Hi   []float64 // bin edges; Lo[i] == Hi[i] for a distinct value
	Counts   []int
	Distinct bool
}

// maxDistinct is the largest number of distinct rating values shown as one
// bar each; more (continuous scores) are binned into histBins bins.
const (
	maxDistinct = 24
	histBins    = 20
)

// rateStats computes ratingStats of t in one pass plus a sort of the
// distinct values: O(n + d log d) for n rows and d distinct values.
func rateStats(t *ratings.Table) *ratingStats {
	s := &ratingStats{Rows: t.Len(), Min: math.Inf(1), Max: math.Inf(-1)}
	seenU := make([]bool, t.NumUsers())
	seenI := make([]bool, t.NumItems())
	distinct := map[float32]int{}
	var sum, sumSq float64
	for r, v := range t.Ratings {
		if u := t.Users[r]; !seenU[u] {
			seenU[u] = true
			s.Users++
		}
		if i := t.Items[r]; !seenI[i] {
			seenI[i] = true
			s.Items++
		}
		x := float64(v)
		sum += x
		s.Min = math.Min(s.Min, x)
		s.Max = math.Max(s.Max, x)
		if len(distinct) <= maxDistinct {
			distinct[v]++
		}
	}
	if s.Rows == 0 {
		s.Min, s.Max = math.NaN(), math.NaN()
		s.Mean, s.Std = math.NaN(), math.NaN()
		return s
	}
	s.Mean = sum / float64(s.Rows)
	for _, v := range t.Ratings {
		d := float64(v) - s.Mean
		sumSq += d * d
	}
	s.Std = math.Sqrt(sumSq / float64(s.Rows))
	s.Density = float64(s.Rows) / (float64(s.Users) * float64(s.Items))
	if len(distinct) <= maxDistinct {
		s.Distinct = true
		vals := make([]float32, 0, len(distinct))
		for v := range distinct {
			vals = append(vals, v)
		}
		sort.Slice(vals, func(a, b int) bool { return vals[a] < vals[b] })
		for _, v := range vals {
			s.Lo = append(s.Lo, float64(v))
			s.Hi = append(s.Hi, float64(v))
			s.Counts = append(s.Counts, distinct[v])
		}
		return s
	}
	w := (s.Max - s.Min) / histBins
	s.Counts = make([]int, histBins)
	for b := 0; b < histBins; b++ {
		s.Lo = append(s.Lo, s.Min+float64(b)*w)
		s.Hi = append(s.Hi, s.Min+float64(b+1)*w)
	}
	for _, v := range t.Ratings {
		b := int((float64(v) - s.Min) / w)
		if b >= histBins {
			b = histBins - 1
		}
		s.Counts[b]++
	}
	return s
}

// popularity compares how often items were rated in training with how often
// they are recommended. Items are those with at least one training rating,
// sorted by training count, most popular first (ties by id, so the order is
// deterministic).
type popularity struct {
	Train []int // training ratings per item, descending
	Recs  []int // times recommended, same item order
	IDs   []string

	Users      int // users with a list
	Slots      int // recommendations made (sum of list lengths)
	Recommend  int // distinct items recommended
	Unknown    int // recommendations of items absent from the training split
	K          int // longest list
	TrainTotal int // sum of Train
}

// popStats builds popularity from the training table and the top-k lists:
// O(rows + slots + items log items).
func popStats(t *ratings.Table, lists []toplist.List) *popularity {
	counts := make([]int, t.NumItems())
	for _, i := range t.Items {
		counts[i]++
	}
	recs := make([]int, t.NumItems())
	p := &popularity{}
	for _, l := range lists {
		if len(l.Items) == 0 {
			continue
		}
		p.Users++
		p.K = max(p.K, len(l.Items))
		for _, it := range l.Items {
			p.Slots++
			if i, ok := t.ItemIndex(it.ID); ok && counts[i] > 0 {
				recs[i]++
			} else {
				p.Unknown++
			}
		}
	}
	order := make([]int, 0, len(counts))
	for i, c := range counts {
		if c > 0 {
			order = append(order, i)
		}
	}
	sort.Slice(order, func(a, b int) bool {
		ia, ib := order[a], order[b]
		if counts[ia] != counts[ib] {
			return counts[ia] > counts[ib]
		}
		return t.ItemIDs[ia] < t.ItemIDs[ib]
	})
	p.Train = make([]int, len(order))
	p.Recs = make([]int, len(order))
	p.IDs = make([]string, len(order))
	for j, i := range order {
		p.Train[j], p.Recs[j], p.IDs[j] = counts[i], recs[i], t.ItemIDs[i]
		p.TrainTotal += counts[i]
		if recs[i] > 0 {
			p.Recommend++
		}
	}
	return p
}

// Coverage is the share of items with training ratings that appear in at
// least one list (catalogue coverage).
func (p *popularity) Coverage() float64 {
	if len(p.Train) == 0 {
		return math.NaN()
	}
	return float64(p.Recommend) / float64(len(p.Train))
}

// HeadShare returns the share of training ratings and of recommendation
// slots that go to the most popular fraction f of items (at least one item).
func (p *popularity) HeadShare(f float64) (train, recs float64, items int) {
	n := len(p.Train)
	if n == 0 {
		return math.NaN(), math.NaN(), 0
	}
	items = max(1, int(math.Round(f*float64(n))))
	var tr, rc int
	for j := 0; j < items; j++ {
		tr += p.Train[j]
		rc += p.Recs[j]
	}
	return share(tr, p.TrainTotal), share(rc, p.Slots-p.Unknown), items
}

// RareShare returns the share of recommendation slots given to items with
// fewer than minCount training ratings.
func (p *popularity) RareShare(minCount int) float64 {
	var rc int
	for j, c := range p.Train {
		if c < minCount {
			rc += p.Recs[j]
		}
	}
	return share(rc, p.Slots-p.Unknown)
}

// Lift is the popularity lift of the lists: the mean training count of a
// recommended item (weighted by the slots it takes) over the mean training
// count of a catalogue item. 1 is what lists drawn at random from the
// catalogue would show; a popularity ranking shows several times that.
func (p *popularity) Lift() float64 {
	if len(p.Train) == 0 || p.TrainTotal == 0 || p.Slots-p.Unknown == 0 {
		return math.NaN()
	}
	var w float64
	for j, c := range p.Train {
		w += float64(c) * float64(p.Recs[j])
	}
	recMean := w / float64(p.Slots-p.Unknown)
	return recMean / (float64(p.TrainTotal) / float64(len(p.Train)))
}

// Gini returns the Gini coefficient of xs (0: all equal; → 1: one item
// takes everything), from the sorted-values formula
// G = Σ_i (2i − n − 1)·x_(i) / (n·Σx) with x_(i) ascending, i = 1..n.
func gini(xs []int) float64 {
	n := len(xs)
	s := append([]int(nil), xs...)
	sort.Ints(s)
	var num, tot float64
	for i, x := range s {
		num += float64(2*(i+1)-n-1) * float64(x)
		tot += float64(x)
	}
	if tot == 0 {
		return math.NaN()
	}
	return num / (float64(n) * tot)
}

func share(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

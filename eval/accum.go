package eval

import (
	"math"
	"slices"
)

// RatingAccumulator computes the rating metrics of (truth, prediction)
// pairs added one at a time, in O(1) memory, with Welford's updates for the
// variances (numerically stable for any number of rows). Its zero value is
// ready to use.
type RatingAccumulator struct {
	n          int
	sumSq, abs float64 // Σ d², Σ |d| with d = r − p
	meanY, m2Y float64 // Welford mean and Σ (y − mean)² of the truth
	meanD, m2D float64 // same for the residuals d
}

// Add records one joined pair: the true rating r and the prediction p.
func (a *RatingAccumulator) Add(r, p float64) {
	d := r - p
	a.n++
	a.sumSq += d * d
	a.abs += math.Abs(d)
	n := float64(a.n)
	dy := r - a.meanY
	a.meanY += dy / n
	a.m2Y += dy * (r - a.meanY)
	dd := d - a.meanD
	a.meanD += dd / n
	a.m2D += dd * (d - a.meanD)
}

// N returns the number of pairs added.
func (a *RatingAccumulator) N() int { return a.n }

// Metrics returns RMSE, MAE, R² and explained variance, in that order
// (RatingMetrics). With no pairs it returns nil. R² and explained variance
// follow sklearn's force_finite rule when the truth has zero variance: 1 if
// the numerator is also zero, else 0 — never NaN or ±Inf.
func (a *RatingAccumulator) Metrics() []Metric {
	if a.n == 0 {
		return nil
	}
	n := float64(a.n)
	ratio := func(num, den float64) float64 {
		if den == 0 {
			if num == 0 {
				return 1
			}
			return 0
		}
		return 1 - num/den
	}
	vals := []float64{math.Sqrt(a.sumSq / n), a.abs / n, ratio(a.sumSq, a.m2Y), ratio(a.m2D, a.m2Y)}
	out := make([]Metric, len(vals))
	for i, name := range RatingMetrics {
		out[i] = Metric{Name: name, Value: vals[i], N: a.n, Definition: Definitions[name]}
	}
	return out
}

// RankingAccumulator computes the ranking metrics at several k from
// per-user lists added one at a time. Sums are float64 in the order users
// are added, so a fixed order gives bit-identical results.
type RankingAccumulator struct {
	ks        []int // ascending, distinct
	catalogue int   // coverage denominator
	users     int
	relevant  int
	// per k: sums over users
	hits, prec, recall, ndcg, mapRel, mapK []float64
	firstRank                              []int32 // per item: best rank seen (0 = never)
}

// NewRankingAccumulator returns an accumulator for the list lengths ks
// (each ≥ 1) over items numbered 0..numItems-1; catalogue is the number of
// items coverage divides by. It panics if ks is empty or holds a k < 1.
func NewRankingAccumulator(ks []int, numItems, catalogue int) *RankingAccumulator {
	if len(ks) == 0 {
		panic("eval: no k")
	}
	ks = slices.Clone(ks)
	slices.Sort(ks)
	ks = slices.Compact(ks)
	if ks[0] < 1 {
		panic("eval: k < 1")
	}
	n := len(ks)
	return &RankingAccumulator{ks: ks, catalogue: catalogue,
		hits: make([]float64, n), prec: make([]float64, n), recall: make([]float64, n),
		ndcg: make([]float64, n), mapRel: make([]float64, n), mapK: make([]float64, n),
		firstRank: make([]int32, numItems)}
}

// MaxK returns the largest k: lists longer than it are truncated.
func (a *RankingAccumulator) MaxK() int { return a.ks[len(a.ks)-1] }

// Add records one user: recs are the user's recommended items best first
// (distinct, numbered below numItems; only the first MaxK are looked at);
// rel are the user's relevant items that have a number, sorted ascending
// and distinct; nrel counts all the user's relevant items, including those
// without a number (items no list can hold), so nrel ≥ len(rel). A user
// with no recommendations or no relevant items is not in both truth and
// predictions and is ignored; Add reports whether the user was counted.
func (a *RankingAccumulator) Add(recs []int32, rel []int32, nrel int) bool {
	if len(recs) == 0 || nrel == 0 {
		return false
	}
	if nrel < len(rel) {
		panic("eval: nrel < len(rel)")
	}
	a.users++
	a.relevant += nrel
	kmax := a.MaxK()
	if len(recs) > kmax {
		recs = recs[:kmax]
	}
	for r, it := range recs {
		if fr := a.firstRank[it]; fr == 0 || int(fr) > r+1 {
			a.firstRank[it] = int32(r + 1)
		}
	}
	// Walk the ranks once, closing each k as it is reached.
	var hits int
	var dcg, ap float64
	ki := 0
	for r := 1; ki < len(a.ks); r++ {
		if r <= len(recs) {
			if _, ok := slices.BinarySearch(rel, recs[r-1]); ok {
				hits++
				dcg += 1 / math.Log(1+float64(r))
				ap += float64(hits) / float64(r)
			}
		}
		for ki < len(a.ks) && a.ks[ki] == r {
			k := a.ks[ki]
			a.hits[ki] += float64(hits)
			a.prec[ki] += float64(hits) / float64(k)
			a.recall[ki] += float64(hits) / float64(nrel)
			a.ndcg[ki] += dcg / idcg(min(k, nrel))
			a.mapRel[ki] += ap / float64(nrel)
			a.mapK[ki] += ap / float64(min(k, nrel))
			ki++
		}
		if r >= len(recs) && hits == 0 {
			break // nothing more to add for any k
		}
	}
	return true
}

// idcg returns Σ_{i=1..n} 1/ln(1+i).
func idcg(n int) float64 {
	var s float64
	for i := 1; i <= n; i++ {
		s += 1 / math.Log(1+float64(i))
	}
	return s
}

// Users returns the number of users counted.
func (a *RankingAccumulator) Users() int { return a.users }

// Relevant returns the number of relevant items over the counted users.
func (a *RankingAccumulator) Relevant() int { return a.relevant }

// Metrics returns, for each k ascending, precision, recall, ndcg, map,
// map_at_k and coverage (RankingMetrics order). With no users counted it
// returns nil.
func (a *RankingAccumulator) Metrics() []Metric {
	if a.users == 0 {
		return nil
	}
	n := float64(a.users)
	var out []Metric
	for ki, k := range a.ks {
		covered := 0
		for _, fr := range a.firstRank {
			if fr != 0 && int(fr) <= k {
				covered++
			}
		}
		cov := 0.0
		if a.catalogue > 0 {
			cov = float64(covered) / float64(a.catalogue)
		}
		vals := []float64{a.prec[ki] / n, a.recall[ki] / n, a.ndcg[ki] / n, a.mapRel[ki] / n, a.mapK[ki] / n, cov}
		for i, name := range RankingMetrics {
			m := Metric{Name: name, K: k, Value: vals[i], N: a.users, Definition: Definitions[name]}
			if name == Coverage {
				m.N = a.catalogue
			}
			out = append(out, m)
		}
	}
	return out
}

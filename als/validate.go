package als

import (
	"math"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/recs-dev/recs/ratings"
)

// validK is the list length of the implicit validation metric (NDCG@10).
const validK = 10

// validator computes the validation metric of WithValidation from the
// working factors.
type validator struct {
	implicit bool
	// Explicit: the rows whose user and item have factors.
	vu, vi []int32
	vr     []float32
	// Implicit: validation users with factors, their relevant items (compact
	// indices of items with factors) and their number of relevant rows
	// (items without factors count too: they can never be hit).
	users []int32
	rel   [][]int32
	nrel  []int
}

func newValidator(t *ratings.Table, users, items *side, implicit bool) *validator {
	uIdx := indexOf(users.ids)
	iIdx := indexOf(items.ids)
	v := &validator{implicit: implicit}
	if !implicit {
		for r := 0; r < t.Len(); r++ {
			u, ok1 := uIdx[t.UserIDs[t.Users[r]]]
			i, ok2 := iIdx[t.ItemIDs[t.Items[r]]]
			if ok1 && ok2 {
				v.vu = append(v.vu, u)
				v.vi = append(v.vi, i)
				v.vr = append(v.vr, t.Ratings[r])
			}
		}
		return v
	}
	rel := map[int32][]int32{}
	nrel := map[int32]int{}
	for r := 0; r < t.Len(); r++ {
		u, ok := uIdx[t.UserIDs[t.Users[r]]]
		if !ok {
			continue
		}
		nrel[u]++
		if i, ok := iIdx[t.ItemIDs[t.Items[r]]]; ok {
			rel[u] = append(rel[u], i)
		}
	}
	for u := range nrel {
		v.users = append(v.users, u)
	}
	sort.Slice(v.users, func(a, b int) bool { return v.users[a] < v.users[b] })
	for _, u := range v.users {
		v.rel = append(v.rel, rel[u])
		v.nrel = append(v.nrel, nrel[u])
	}
	return v
}

// empty reports whether there is nothing to evaluate.
func (v *validator) empty() bool {
	if v.implicit {
		return len(v.users) == 0
	}
	return len(v.vr) == 0
}

func indexOf(ids []string) map[string]int32 {
	m := make(map[string]int32, len(ids))
	for i, id := range ids {
		m[id] = int32(i)
	}
	return m
}

// evaluate returns the metric name and value for the current factors.
func (v *validator) evaluate(pr *problem, users, items *side) (string, float64) {
	if !v.implicit {
		return "rmse", v.rmse(pr, users, items)
	}
	return "ndcg@10", v.ndcg(pr, users, items)
}

// sumPieces runs fn over [0, n) in pieces of size piece on up to threads
// goroutines and returns the sum of the results in piece order, so that
// the total does not depend on the scheduling.
func sumPieces(n, piece, threads int, fn func(lo, hi int) float64) float64 {
	np := (n + piece - 1) / piece
	parts := make([]float64, np)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(threads, np); w++ {
		wg.Go(func() {
			for {
				c := int(next.Add(1) - 1)
				if c >= np {
					return
				}
				parts[c] = fn(c*piece, min(n, (c+1)*piece))
			}
		})
	}
	wg.Wait()
	var s float64
	for _, x := range parts {
		s += x
	}
	return s
}

func (v *validator) rmse(pr *problem, users, items *side) float64 {
	if len(v.vr) == 0 {
		return math.NaN()
	}
	s, rank := pr.s, pr.p.Rank
	sse := sumPieces(len(v.vr), 1<<14, pr.threads, func(lo, hi int) float64 {
		var sse float64
		for r := lo; r < hi; r++ {
			u, i := int(v.vu[r]), int(v.vi[r])
			x := users.fac[u*s : u*s+rank]
			y := items.fac[i*s : i*s+rank]
			var pred float64
			for c := range x {
				pred += float64(x[c]) * float64(y[c])
			}
			pred = float64(float32(pred))
			if pr.p.Biases {
				pred += pr.mu + users.bias[u] + items.bias[i]
			}
			d := float64(v.vr[r]) - pred
			sse += d * d
		}
		return sse
	})
	return math.Sqrt(sse / float64(len(v.vr)))
}

func (v *validator) ndcg(pr *problem, users, items *side) float64 {
	if len(v.users) == 0 {
		return math.NaN()
	}
	s := pr.s
	ni := items.n()
	var pool sync.Pool
	pool.New = func() any {
		return &ndcgScratch{scores: make([]float32, ni), seen: make([]bool, ni), rel: make([]bool, ni)}
	}
	sum := sumPieces(len(v.users), 64, pr.threads, func(lo, hi int) float64 {
		w := pool.Get().(*ndcgScratch)
		defer pool.Put(w)
		var total float64
		for n := lo; n < hi; n++ {
			u := int(v.users[n])
			pr.kern.dotRows(w.scores, items.fac, ni, s, users.fac[u*s:u*s+s])
			seen := users.cols[users.indptr[u]:users.indptr[u+1]]
			for _, i := range seen {
				w.seen[i] = true
			}
			for _, i := range v.rel[n] {
				w.rel[i] = true
			}
			top := topK(w.scores, w.seen, validK, w.top[:0])
			var dcg float64
			for r, i := range top {
				if w.rel[i] {
					dcg += 1 / math.Log(float64(r)+2)
				}
			}
			var idcg float64
			for r := 0; r < min(validK, v.nrel[n]); r++ {
				idcg += 1 / math.Log(float64(r)+2)
			}
			total += dcg / idcg
			for _, i := range seen {
				w.seen[i] = false
			}
			for _, i := range v.rel[n] {
				w.rel[i] = false
			}
		}
		return total
	})
	return sum / float64(len(v.users))
}

type ndcgScratch struct {
	scores    []float32
	seen, rel []bool
	top       [validK]int32
}

// topK returns the indices of the k largest scores not marked in skip,
// best first; ties go to the lower index.
func topK(scores []float32, skip []bool, k int, out []int32) []int32 {
	for i, sc := range scores {
		if skip[i] {
			continue
		}
		if len(out) == k {
			last := scores[out[k-1]]
			if !(sc > last) {
				continue
			}
			out = out[:k-1]
		}
		// Insert keeping descending order; equal scores keep index order.
		p := len(out)
		out = append(out, int32(i))
		for p > 0 && scores[out[p-1]] < sc {
			out[p] = out[p-1]
			p--
		}
		out[p] = int32(i)
	}
	return out
}

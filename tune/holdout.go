package tune

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/recs-dev/recs/ratings"
)

// HoldoutSplit carves a validation set out of t: per group (user or item,
// h.By) for "stratified" (rows in random order) and "chrono" (rows by
// time, the latest held out), or over all rows for "random". A group of n
// rows keeps round(n·(1−Ratio)) rows for fitting, rounding half to even as
// Microsoft Recommenders' splitters do. Both parts share t's dictionaries.
func HoldoutSplit(t *ratings.Table, h Holdout) (fit, valid *ratings.Table, err error) {
	if !(h.Ratio > 0 && h.Ratio < 1) {
		return nil, nil, fmt.Errorf("tune: holdout ratio %v: want a share in (0, 1)", h.Ratio)
	}
	method, by := h.Method, h.By
	if method == "" {
		method = "stratified"
	}
	if by == "" {
		by = "user"
	}
	if method == "chrono" && !t.HasTimes() {
		return nil, nil, fmt.Errorf("tune: a chrono holdout needs timestamps, and the training data has none")
	}
	groups := t.Users
	switch {
	case method == "random":
		groups = make([]int32, t.Len())
	case by == "item":
		groups = t.Items
	case by != "user":
		return nil, nil, fmt.Errorf("tune: holdout by %q: want user or item", by)
	}
	if method != "random" && method != "stratified" && method != "chrono" {
		return nil, nil, fmt.Errorf("tune: holdout method %q: want stratified, chrono or random", method)
	}
	rng := rand.New(rand.NewPCG(uint64(h.Seed), 0x686f6c64)) // "hold"
	by2 := map[int32][]int{}
	var order []int32
	for r, g := range groups {
		if _, ok := by2[g]; !ok {
			order = append(order, g)
		}
		by2[g] = append(by2[g], r)
	}
	sort.Slice(order, func(a, b int) bool { return order[a] < order[b] })
	var tr, te []int
	for _, g := range order {
		rows := by2[g]
		if method == "chrono" {
			sort.SliceStable(rows, func(a, b int) bool { return t.Times[rows[a]] < t.Times[rows[b]] })
		} else {
			rng.Shuffle(len(rows), func(a, b int) { rows[a], rows[b] = rows[b], rows[a] })
		}
		n := int(math.RoundToEven(float64(len(rows)) * (1 - h.Ratio)))
		tr = append(tr, rows[:n]...)
		te = append(te, rows[n:]...)
	}
	sort.Ints(tr)
	sort.Ints(te)
	return t.Subset(tr), t.Subset(te), nil
}

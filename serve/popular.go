package serve

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/recs-dev/recs/ratings"
	"github.com/recs-dev/recs/toplist"
)

// Popular is the list served to users without one of their own when the
// popular fallback is on: the most-rated items of the training data, most
// rated first, each scored by its number of ratings. It is pre-encoded like
// a Record's items.
type Popular struct {
	items []byte   // encoded items separated by commas
	ends  []uint32 // ends[j] = end of item j in items
}

// NewPopular returns the fallback list of items, in the order given.
func NewPopular(items []toplist.Item) *Popular {
	p := &Popular{}
	for j, it := range items {
		if j > 0 {
			p.items = append(p.items, ',')
		}
		p.items = appendItem(p.items, it)
		p.ends = append(p.ends, uint32(len(p.items)))
	}
	return p
}

// PopularFromTable counts the ratings of each item of t and returns the k
// most rated, scored by their counts; ties go to the smaller item id
// (numerically when both ids are decimal integers, as in MovieLens), so the
// list is deterministic. Cost O(rows + items·log items).
func PopularFromTable(t *ratings.Table, k int) *Popular {
	counts := make([]int, t.NumItems())
	for _, it := range t.Items {
		counts[it]++
	}
	order := make([]int, 0, len(counts))
	for i, c := range counts {
		if c > 0 {
			order = append(order, i)
		}
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return compareIDs(t.ItemIDs[a], t.ItemIDs[b])
	})
	if len(order) > k {
		order = order[:k]
	}
	items := make([]toplist.Item, len(order))
	for j, i := range order {
		items[j] = toplist.Item{ID: t.ItemIDs[i], Score: float32(counts[i])}
	}
	return NewPopular(items)
}

// compareIDs orders decimal integer ids numerically and anything else as
// strings, integers first.
func compareIDs(a, b string) int {
	x, errA := strconv.ParseInt(a, 10, 64)
	y, errB := strconv.ParseInt(b, 10, 64)
	switch {
	case errA == nil && errB == nil:
		return cmp.Compare(x, y)
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return cmp.Compare(a, b)
}

// Len returns the number of items.
func (p *Popular) Len() int { return len(p.ends) }

// cut returns the encoded first k items (k clamped to Len).
func (p *Popular) cut(k int) []byte {
	if k > len(p.ends) {
		k = len(p.ends)
	}
	if k <= 0 {
		return nil
	}
	return p.items[:p.ends[k-1]]
}

package export

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/recs-dev/recs/toplist"
)

var testMeta = toplist.Meta{Model: "als-test-7", K: 10, GeneratedAt: time.Date(2024, 5, 1, 2, 0, 0, 123456789, time.UTC)}

// genLists returns n users' lists of k distinct items from a catalogue of
// 2000, with decreasing scores, from a seeded generator (the same seed
// gives the same lists).
func genLists(n, k int, seed uint64) []toplist.List {
	rng := rand.New(rand.NewPCG(seed, 42))
	out := make([]toplist.List, n)
	for u := range out {
		seen := map[int]bool{}
		items := make([]toplist.Item, 0, k)
		for len(items) < k {
			i := rng.IntN(2000)
			if seen[i] {
				continue
			}
			seen[i] = true
			items = append(items, toplist.Item{ID: fmt.Sprint(i + 1), Score: rng.Float32()*5 - 0.5})
		}
		sort.Slice(items, func(a, b int) bool { return items[a].Score > items[b].Score })
		out[u] = toplist.List{User: fmt.Sprintf("u%05d", u+1), Items: items}
	}
	return out
}

// failingSource yields lists and then an error instead of io.EOF.
type failingSource struct {
	lists []toplist.List
	i     int
	err   error
}

func (f *failingSource) Next() (toplist.List, error) {
	if f.i >= len(f.lists) {
		return toplist.List{}, f.err
	}
	f.i++
	return f.lists[f.i-1], nil
}

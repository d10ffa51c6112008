package ratings

import (
	"fmt"
	"unsafe"
)

// Groups is the result of a stable counting sort of positions by a dense
// key: the positions whose key is g are Pos[Start[g]:Start[g+1]], in
// increasing order. It is the layout of a compressed sparse row matrix (see
// CSR), of split's per-user and per-item groups and of eval's per-user
// predictions.
type Groups[P int32 | int64] struct {
	Start []int64 // len = number of groups + 1
	Pos   []P     // the grouped positions; positions with a negative key are left out
}

// Len returns the number of groups.
func (g Groups[P]) Len() int { return len(g.Start) - 1 }

// Of returns the positions of group k, in increasing order.
func (g Groups[P]) Of(k int) []P { return g.Pos[g.Start[k]:g.Start[k+1]] }

// GroupBy sorts the positions 0..len(keys)-1 by key with a stable counting
// sort: O(len(keys) + n) time, one pass to count and one to place. Keys
// must be below n; a negative key leaves its position out (a row that
// belongs to no group). P must hold len(keys)-1; GroupBy panics otherwise.
func GroupBy[P int32 | int64](keys []int32, n int) Groups[P] {
	var p P
	if bits := unsafe.Sizeof(p) * 8; uint64(len(keys)) > 1<<(bits-1) {
		panic(fmt.Sprintf("ratings: GroupBy of %d positions: more than int%d holds", len(keys), bits))
	}
	start := make([]int64, n+1)
	for _, k := range keys {
		if k >= 0 {
			start[k+1]++
		}
	}
	for k := 0; k < n; k++ {
		start[k+1] += start[k]
	}
	next := make([]int64, n)
	copy(next, start[:n])
	pos := make([]P, start[n])
	for r, k := range keys {
		if k >= 0 {
			pos[next[k]] = P(r)
			next[k]++
		}
	}
	return Groups[P]{Start: start, Pos: pos}
}

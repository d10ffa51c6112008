package ingest

import (
	"context"
	"sync"

	"github.com/recs-dev/recs/ratings"
)

// dedupeRowsPerWorker is the least number of rows worth a dedupe worker (a
// variable so that tests can exercise the parallel path on small tables).
var dedupeRowsPerWorker = 1 << 16

// dedupeCols are the columns of a table being deduplicated in place.
type dedupeCols struct {
	users, items   []int32
	ratings        []float32
	times          []int64 // nil: no timestamps
	nUsers, nItems int
}

type dedupeResult struct {
	removed int       // rows removed; the columns' first len-removed rows are the result
	dup     *[2]int32 // DedupeError: the rows of the first duplicate (earlier, later)
}

// run removes duplicate (user, item) rows according to policy, keeping the
// order of the remaining rows.
//
// Rows are grouped by user — in place when each user's rows are already
// contiguous (MovieLens files are sorted by user), otherwise by a stable
// counting sort into a permutation (4 bytes a row) — and each group is
// scanned with an item-indexed mark array, so the cost is O(rows + users)
// time and no hashing; groups are split among workers by row count. The
// winner of a duplicate set depends only on (timestamp, row), never on the
// scan order, so the result is the same for any number of workers.
func (d *dedupeCols) run(ctx context.Context, policy Dedupe, workers int) (dedupeResult, error) {
	n := len(d.users)
	if n < 2 {
		return dedupeResult{}, nil
	}
	var perm []int32 // nil: rows grouped already, position k is row k
	if !d.grouped() {
		perm = d.sortByUser()
	}
	if err := ctx.Err(); err != nil {
		return dedupeResult{}, err
	}
	rowAt := func(k int) int32 {
		if perm == nil {
			return int32(k)
		}
		return perm[k]
	}
	// Cut positions [0, n) into ranges that start at a group boundary.
	workers = max(1, min(workers, n/dedupeRowsPerWorker+1))
	bounds := []int{0}
	for w := 1; w < workers; w++ {
		k := max(n*w/workers, bounds[len(bounds)-1]+1)
		for k < n && d.users[rowAt(k)] == d.users[rowAt(k-1)] {
			k++
		}
		if k >= n {
			break
		}
		bounds = append(bounds, k)
	}
	bounds = append(bounds, n)

	type part struct {
		drops []int32
		dup   *[2]int32
	}
	parts := make([]part, len(bounds)-1)
	var wg sync.WaitGroup
	for w := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[w].drops, parts[w].dup = d.scan(policy, rowAt, bounds[w], bounds[w+1])
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return dedupeResult{}, err
	}

	var res dedupeResult
	total := 0
	for _, p := range parts {
		total += len(p.drops)
		if p.dup != nil && (res.dup == nil || p.dup[1] < res.dup[1]) {
			res.dup = p.dup
		}
	}
	if res.dup != nil || total == 0 {
		return res, nil
	}
	drop := make([]uint64, (n+63)/64)
	for _, p := range parts {
		for _, r := range p.drops {
			drop[r>>6] |= 1 << (r & 63)
		}
	}
	w := 0
	for r := 0; r < n; r++ {
		if drop[r>>6]&(1<<(r&63)) != 0 {
			continue
		}
		if w != r {
			d.users[w], d.items[w], d.ratings[w] = d.users[r], d.items[r], d.ratings[r]
			if d.times != nil {
				d.times[w] = d.times[r]
			}
		}
		w++
	}
	res.removed = n - w
	return res, nil
}

// grouped reports whether each user's rows are contiguous.
func (d *dedupeCols) grouped() bool {
	seen := make([]uint64, (d.nUsers+63)/64)
	prev := int32(-1)
	for _, u := range d.users {
		if u == prev {
			continue
		}
		if seen[u>>6]&(1<<(u&63)) != 0 {
			return false
		}
		seen[u>>6] |= 1 << (u & 63)
		prev = u
	}
	return true
}

// sortByUser returns the rows ordered by user, stably (a counting sort).
func (d *dedupeCols) sortByUser() []int32 {
	return ratings.GroupBy[int32](d.users, d.nUsers).Pos
}

// scan resolves the duplicates of the groups at positions [a, b) and
// returns the rows to drop, or for DedupeError the first duplicate (the
// one whose later row is smallest).
func (d *dedupeCols) scan(policy Dedupe, rowAt func(int) int32, a, b int) ([]int32, *[2]int32) {
	mark := make([]int32, d.nItems) // group stamp of the item's last sighting
	win := make([]int32, d.nItems)  // the row currently kept for (group, item)
	var sum []float64
	var cnt []int32
	var meanItems []int32 // items with duplicates in the current group
	if policy == DedupeMean {
		sum, cnt = make([]float64, d.nItems), make([]int32, d.nItems)
	}
	flushMean := func() {
		for _, it := range meanItems {
			d.ratings[win[it]] = float32(sum[it] / float64(cnt[it]))
		}
		meanItems = meanItems[:0]
	}
	var drops []int32
	var dup *[2]int32
	stamp := int32(0)
	prevU := int32(-1)
	for k := a; k < b; k++ {
		r := rowAt(k)
		if u := d.users[r]; u != prevU || k == a {
			if sum != nil {
				flushMean()
			}
			stamp++
			prevU = u
		}
		it := d.items[r]
		if mark[it] != stamp {
			mark[it], win[it] = stamp, r
			if sum != nil {
				sum[it], cnt[it] = float64(d.ratings[r]), 1
			}
			continue
		}
		// A duplicate. Rows of a group come in table order, so r > win[it].
		w := win[it]
		switch policy {
		case DedupeError:
			if dup == nil || r < dup[1] {
				dup = &[2]int32{w, r}
			}
			continue
		case DedupeFirst:
			// Keep the earliest timestamp; on a tie, the earlier row (w).
			if d.times != nil && d.times[r] < d.times[w] {
				drops = append(drops, w)
				win[it] = r
			} else {
				drops = append(drops, r)
			}
		default: // DedupeLast, DedupeMean
			// Keep the latest timestamp; on a tie, the later row (r).
			if d.times == nil || d.times[r] >= d.times[w] {
				drops = append(drops, w)
				win[it] = r
			} else {
				drops = append(drops, r)
			}
			if sum != nil {
				if cnt[it] == 1 {
					meanItems = append(meanItems, it)
				}
				sum[it] += float64(d.ratings[r])
				cnt[it]++
			}
		}
	}
	if sum != nil {
		flushMean()
	}
	return drops, dup
}

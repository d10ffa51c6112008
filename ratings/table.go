package ratings

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// Table is a set of ratings with dense user and item indices.
//
// Row r says that user UserIDs[Users[r]] rated item ItemIDs[Items[r]] with
// Ratings[r] at time Times[r]. Times is nil when the source had no
// timestamps. Several tables may share the same id dictionaries (a split
// keeps the parent's dictionaries, so indices agree between train and test);
// in that case some users or items of the dictionary may have no rows.
type Table struct {
	UserIDs []string
	ItemIDs []string
	Users   []int32
	Items   []int32
	Ratings []float32
	Times   []int64

	byUserOnce, byItemOnce sync.Once
	byUser, byItem         *CSR
	userIdxOnce            sync.Once
	itemIdxOnce            sync.Once
	userIdx, itemIdx       map[string]int32
}

// New returns a table over the given columns after checking that they have
// equal lengths, that every index is within its dictionary and that every
// rating is finite. times may be nil. The slices are used, not copied.
func New(userIDs, itemIDs []string, users, items []int32, ratings []float32, times []int64) (*Table, error) {
	n := len(users)
	if len(items) != n || len(ratings) != n || (times != nil && len(times) != n) {
		return nil, fmt.Errorf("ratings: column lengths differ: users %d, items %d, ratings %d, times %d",
			len(users), len(items), len(ratings), len(times))
	}
	nu, ni := int32(len(userIDs)), int32(len(itemIDs))
	// The check runs over parts of the rows concurrently (it is a serial
	// step between reading and writing a large table); the error is the
	// first bad row's, whatever the parts.
	parts := min(runtime.GOMAXPROCS(0), max(1, n/(1<<20)))
	bad := make([]int, parts)
	var wg sync.WaitGroup
	for p := range parts {
		wg.Go(func() {
			lo, hi := n*p/parts, n*(p+1)/parts
			bad[p] = -1
			for r := lo; r < hi; r++ {
				if users[r] < 0 || users[r] >= nu || items[r] < 0 || items[r] >= ni ||
					math.IsNaN(float64(ratings[r])) || math.IsInf(float64(ratings[r]), 0) {
					bad[p] = r
					return
				}
			}
		})
	}
	wg.Wait()
	for _, r := range bad {
		switch {
		case r < 0:
			continue
		case users[r] < 0 || users[r] >= nu:
			return nil, fmt.Errorf("ratings: row %d: user index %d out of range [0,%d)", r, users[r], nu)
		case items[r] < 0 || items[r] >= ni:
			return nil, fmt.Errorf("ratings: row %d: item index %d out of range [0,%d)", r, items[r], ni)
		default:
			return nil, fmt.Errorf("ratings: row %d: rating %v is not finite", r, ratings[r])
		}
	}
	return &Table{UserIDs: userIDs, ItemIDs: itemIDs, Users: users, Items: items, Ratings: ratings, Times: times}, nil
}

// Len returns the number of rows.
func (t *Table) Len() int { return len(t.Users) }

// NumUsers returns the size of the user dictionary.
func (t *Table) NumUsers() int { return len(t.UserIDs) }

// NumItems returns the size of the item dictionary.
func (t *Table) NumItems() int { return len(t.ItemIDs) }

// ActiveUsers returns how many users of the dictionary have at least one
// row. O(rows).
func (t *Table) ActiveUsers() int { return countUsed(t.Users, len(t.UserIDs)) }

// ActiveItems returns how many items of the dictionary have at least one
// row. O(rows).
func (t *Table) ActiveItems() int { return countUsed(t.Items, len(t.ItemIDs)) }

// countUsed returns how many of the n dictionary entries occur in idx.
func countUsed(idx []int32, n int) int {
	seen := make([]bool, n)
	c := 0
	for _, v := range idx {
		if !seen[v] {
			seen[v] = true
			c++
		}
	}
	return c
}

// HasTimes reports whether the table carries timestamps.
func (t *Table) HasTimes() bool { return t.Times != nil }

// UserIndex returns the dense index of the user with original id id.
func (t *Table) UserIndex(id string) (int32, bool) {
	t.userIdxOnce.Do(func() { t.userIdx = indexOf(t.UserIDs) })
	i, ok := t.userIdx[id]
	return i, ok
}

// ItemIndex returns the dense index of the item with original id id.
func (t *Table) ItemIndex(id string) (int32, bool) {
	t.itemIdxOnce.Do(func() { t.itemIdx = indexOf(t.ItemIDs) })
	i, ok := t.itemIdx[id]
	return i, ok
}

func indexOf(ids []string) map[string]int32 {
	m := make(map[string]int32, len(ids))
	for i, id := range ids {
		m[id] = int32(i)
	}
	return m
}

// Subset returns a table of the given rows, in the given order, sharing
// this table's id dictionaries.
func (t *Table) Subset(rows []int) *Table {
	s := &Table{UserIDs: t.UserIDs, ItemIDs: t.ItemIDs,
		Users: make([]int32, len(rows)), Items: make([]int32, len(rows)), Ratings: make([]float32, len(rows))}
	if t.Times != nil {
		s.Times = make([]int64, len(rows))
	}
	for j, r := range rows {
		s.Users[j], s.Items[j], s.Ratings[j] = t.Users[r], t.Items[r], t.Ratings[r]
		if t.Times != nil {
			s.Times[j] = t.Times[r]
		}
	}
	return s
}

// Compact returns a table with the same rows whose dictionaries hold only
// the users and items that occur in it, in order of first appearance.
func (t *Table) Compact() *Table {
	remap := func(idx []int32, ids []string) ([]int32, []string) {
		m := make([]int32, len(ids))
		for i := range m {
			m[i] = -1
		}
		out := make([]int32, len(idx))
		var kept []string
		for r, v := range idx {
			if m[v] < 0 {
				m[v] = int32(len(kept))
				kept = append(kept, ids[v])
			}
			out[r] = m[v]
		}
		return out, kept
	}
	s := &Table{Ratings: t.Ratings, Times: t.Times}
	s.Users, s.UserIDs = remap(t.Users, t.UserIDs)
	s.Items, s.ItemIDs = remap(t.Items, t.ItemIDs)
	return s
}

// ByUser returns the ratings as a CSR matrix with one row per user of the
// dictionary and one column per item. Built once, on first use.
func (t *Table) ByUser() *CSR {
	t.byUserOnce.Do(func() { t.byUser = buildCSR(t.Users, t.Items, t.Ratings, len(t.UserIDs)) })
	return t.byUser
}

// ByItem returns the ratings as a CSR matrix with one row per item and one
// column per user. Built once, on first use.
func (t *Table) ByItem() *CSR {
	t.byItemOnce.Do(func() { t.byItem = buildCSR(t.Items, t.Users, t.Ratings, len(t.ItemIDs)) })
	return t.byItem
}

// CSR is a compressed sparse row matrix: the entries of row i are
// Cols[Indptr[i]:Indptr[i+1]] with values Vals[...] and, in Rows, the
// table rows they came from. Within a row, entries keep table order.
type CSR struct {
	Indptr []int64
	Cols   []int32
	Vals   []float32
	Rows   []int64
}

// NumRows returns the number of rows of the matrix.
func (c *CSR) NumRows() int { return len(c.Indptr) - 1 }

// Row returns the column indices and values of row i.
func (c *CSR) Row(i int) ([]int32, []float32) {
	a, b := c.Indptr[i], c.Indptr[i+1]
	return c.Cols[a:b], c.Vals[a:b]
}

// RowLen returns the number of entries in row i.
func (c *CSR) RowLen(i int) int { return int(c.Indptr[i+1] - c.Indptr[i]) }

// buildCSR groups the rows by rowIdx (GroupBy: O(n + rows), stable) and
// gathers their columns and values.
func buildCSR(rowIdx, colIdx []int32, vals []float32, nrows int) *CSR {
	g := GroupBy[int64](rowIdx, nrows)
	c := &CSR{Indptr: g.Start, Rows: g.Pos, Cols: make([]int32, len(g.Pos)), Vals: make([]float32, len(g.Pos))}
	for p, r := range c.Rows {
		c.Cols[p], c.Vals[p] = colIdx[r], vals[r]
	}
	return c
}

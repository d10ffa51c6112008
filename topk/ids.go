package topk

import (
	"slices"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/ratings"
)

// Mapping translates the dense indices of a ratings.Table into model rows
// by original id. A table's dictionaries are its own (ingest numbers ids in
// order of first appearance), so the same id usually has different indices
// in the table and in the model.
type Mapping struct {
	Users []int32 // table user index → model user row, -1 when the model lacks the user
	Items []int32 // table item index → model item row, -1 when the model lacks the item

	UsersFound int // dictionary users present in the model
	ItemsFound int // dictionary items present in the model
}

// MapTable maps t's user and item dictionaries onto m's rows. It costs one
// hash lookup per dictionary entry, not per row.
func MapTable(m *als.Model, t *ratings.Table) *Mapping {
	return MapIDs(t, m.UserIndex, m.ItemIndex)
}

// MapIDs maps t's user and item dictionaries through the given lookups,
// which return the row of an original id in some other numbering (a
// model's, or the dictionaries of a predictions file).
func MapIDs(t *ratings.Table, user, item func(id string) (int, bool)) *Mapping {
	mp := &Mapping{Users: make([]int32, len(t.UserIDs)), Items: make([]int32, len(t.ItemIDs))}
	mp.UsersFound = mapIDs(mp.Users, t.UserIDs, user)
	mp.ItemsFound = mapIDs(mp.Items, t.ItemIDs, item)
	return mp
}

func mapIDs(dst []int32, ids []string, index func(string) (int, bool)) int {
	found := 0
	for j, id := range ids {
		dst[j] = -1
		if r, ok := index(id); ok {
			dst[j] = int32(r)
			found++
		}
	}
	return found
}

// Exclusion is, for every model user, the set of model items that must not
// be recommended to that user (usually the items the user rated in the
// training data). The zero value excludes nothing.
type Exclusion struct {
	indptr []int64 // len = model users + 1, or nil
	items  []int32 // sorted ascending and distinct within each user

	Rows        int // rows of the table it was built from
	RowsMapped  int // rows whose user and item are both in the model
	UsersMapped int // model users with at least one excluded item
}

// NewExclusion returns the items each model user rated in t, in model rows.
// Rows whose user or item is not in the model are ignored (they are counted:
// Rows − RowsMapped). Duplicate rows are harmless. Cost: O(rows + users +
// Σ n_u log n_u) time and, while it runs, 8 bytes a row of t (which must
// have fewer than 2³¹ rows).
func NewExclusion(m *als.Model, t *ratings.Table) *Exclusion {
	return NewExclusionMapped(MapTable(m, t), len(m.UserIDs), t)
}

// NewExclusionMapped is NewExclusion for any numbering of nu users: mp maps
// t's dictionaries onto it (see MapIDs).
func NewExclusionMapped(mp *Mapping, nu int, t *ratings.Table) *Exclusion {
	// Group the mapped rows by model user, then replace each row by its
	// model item in place.
	key := make([]int32, t.Len())
	for r := range key {
		key[r] = -1
		if u, i := mp.Users[t.Users[r]], mp.Items[t.Items[r]]; u >= 0 && i >= 0 {
			key[r] = u
		}
	}
	g := ratings.GroupBy[int32](key, nu)
	for p, r := range g.Pos {
		g.Pos[p] = mp.Items[t.Items[r]]
	}
	e := &Exclusion{indptr: g.Start, items: g.Pos, Rows: t.Len(), RowsMapped: len(g.Pos)}
	// Sort and de-duplicate each user's items in place, compacting.
	w := int64(0)
	start := int64(0)
	for u := 0; u < nu; u++ {
		end := e.indptr[u+1]
		s := e.items[start:end]
		slices.Sort(s)
		s = slices.Compact(s)
		copy(e.items[w:], s)
		e.indptr[u] = w
		w += int64(len(s))
		if len(s) > 0 {
			e.UsersMapped++
		}
		start = end
	}
	e.indptr[nu] = w
	e.items = e.items[:w:w]
	return e
}

// NewExclusionLists builds an Exclusion from explicit lists: lists[u] holds
// the model item rows to exclude for model user u (any order, duplicates
// allowed). The lists are copied.
func NewExclusionLists(lists [][]int32) *Exclusion {
	e := &Exclusion{indptr: make([]int64, len(lists)+1)}
	for u, l := range lists {
		s := slices.Clone(l)
		slices.Sort(s)
		s = slices.Compact(s)
		e.items = append(e.items, s...)
		e.indptr[u+1] = int64(len(e.items))
		e.Rows += len(l)
		e.RowsMapped += len(l)
		if len(s) > 0 {
			e.UsersMapped++
		}
	}
	return e
}

// Pairs returns the number of distinct (user, item) pairs excluded.
func (e *Exclusion) Pairs() int {
	if e == nil {
		return 0
	}
	return len(e.items)
}

// Items returns the excluded model item rows of model user u, ascending.
func (e *Exclusion) Items(u int) []int32 {
	if e == nil || e.indptr == nil || u+1 >= len(e.indptr) {
		return nil
	}
	return e.items[e.indptr[u]:e.indptr[u+1]]
}

// numUsers is the number of users the exclusion was built for (0: any).
func (e *Exclusion) numUsers() int {
	if e == nil || e.indptr == nil {
		return 0
	}
	return len(e.indptr) - 1
}

package split

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/recs-dev/recs/ratings"
)

// By says which rows form a group for the stratified and chronological
// splits and for the minimum-ratings filter.
type By int

const (
	ByUser By = iota // one group per user
	ByItem           // one group per item
)

func (b By) String() string {
	switch b {
	case ByUser:
		return "user"
	case ByItem:
		return "item"
	}
	return fmt.Sprintf("By(%d)", int(b))
}

// ParseBy parses "user" or "item".
func ParseBy(s string) (By, error) {
	switch strings.ToLower(s) {
	case "user":
		return ByUser, nil
	case "item":
		return ByItem, nil
	}
	return 0, fmt.Errorf("split: group by %q: want user or item", s)
}

// MaxParts is the largest number of parts a split may have.
const MaxParts = 100

// ErrNoTimes is returned by the splits that order rows by time when the
// table has no timestamps.
var ErrNoTimes = errors.New("the table has no timestamps")

// Ratios are given as in Recommenders' process_split_ratio: one number r
// in (0, 1) means two parts, r and 1−r; two or more numbers, each > 0, give
// that many parts and are divided by their sum when the sum (computed
// exactly, as math.fsum) is not 1.

// Cuts returns the cumulative fractions c_1..c_{m-1} of the parts (the last,
// c_m = 1, is implied): the normalised ratios summed left to right in
// float64, as np.cumsum does. It fails on an empty list, a single ratio
// outside (0, 1), a ratio ≤ 0, or a non-finite ratio.
func Cuts(ratios []float64) ([]float64, error) {
	norm, err := normalize(ratios)
	if err != nil {
		return nil, err
	}
	cuts := make([]float64, len(norm)-1)
	var c float64
	for j := range cuts {
		c += norm[j]
		cuts[j] = c
	}
	return cuts, nil
}

func normalize(ratios []float64) ([]float64, error) {
	for _, r := range ratios {
		if math.IsNaN(r) || math.IsInf(r, 0) {
			return nil, fmt.Errorf("split: ratio %v is not a number", r)
		}
	}
	switch len(ratios) {
	case 0:
		return nil, errors.New("split: no ratios")
	case 1:
		r := ratios[0]
		if r <= 0 || r >= 1 {
			return nil, fmt.Errorf("split: ratio %v: a single ratio must be between 0 and 1", r)
		}
		return []float64{r, 1 - r}, nil
	}
	if len(ratios) > MaxParts {
		return nil, fmt.Errorf("split: %d ratios: at most %d parts", len(ratios), MaxParts)
	}
	for _, r := range ratios {
		if r <= 0 {
			return nil, fmt.Errorf("split: ratio %v: every ratio of a list must be > 0", r)
		}
	}
	out := slices.Clone(ratios)
	if s := fsum(ratios); s != 1 {
		for i := range out {
			out[i] /= s
		}
	}
	return out, nil
}

// GroupSizes returns how many of a group's count rows go to each part:
// part j takes the rows of rank k_{j-1} < rank ≤ k_j with k_0 = 0,
// k_j = round(c_j·count) for the cuts c_j (see Cuts) and k_m = count,
// where round is round-half-to-even (Python's round, which
// Recommenders' split_pandas_data_with_ratios applies to c_j·len(group)).
// At 0.75 a group of 1 or 2 goes wholly to the first part, 3 → 2/1,
// 4 → 3/1, 6 → 4/2 (4.5 rounds to 4).
func GroupSizes(count int, ratios []float64) ([]int, error) {
	cuts, err := Cuts(ratios)
	if err != nil {
		return nil, err
	}
	return groupSizes(count, cuts, nil), nil
}

// groupSizes fills dst (len(cuts)+1 entries) with the part sizes.
func groupSizes(count int, cuts []float64, dst []int) []int {
	dst = dst[:0]
	prev := 0
	for _, c := range cuts {
		k := int(math.RoundToEven(c * float64(count)))
		k = min(max(k, prev), count) // np.split clamps indices beyond the end
		dst = append(dst, k-prev)
		prev = k
	}
	return append(dst, count-prev)
}

// NewRand returns the generator that the random splits draw from: PCG-DXSM
// (math/rand/v2's PCG) seeded with (seed, 0x5eed5e1175eed). Shuffles are
// Fisher–Yates, drawing each index below n with Lemire's multiply-and-
// reject method from 64-bit outputs, so that the sequence depends only on
// the seed, not on the Go release.
func NewRand(seed int64) *rand.PCG {
	return rand.NewPCG(uint64(seed), 0x5eed5e1175eed)
}

// uintn returns a uniform integer in [0, n) for n > 0 (Lemire 2019,
// "Fast Random Integer Generation in an Interval").
func uintn(src *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}

// shuffle permutes rows in place (Fisher–Yates, from the last position).
func shuffle(src *rand.PCG, rows []int32) {
	for i := len(rows) - 1; i > 0; i-- {
		j := uintn(src, uint64(i+1))
		rows[i], rows[j] = rows[j], rows[i]
	}
}

// Random splits the rows at random, as python_random_split: the rows are
// shuffled with NewRand(seed). With one ratio r, the first floor(r·n) rows
// of the shuffle form the first part and the rest the second (scikit-learn's
// train_test_split(train_size=r)); with a list, part j takes the shuffled
// rows k_{j-1}..k_j with k_j = round(c_j·n) as in GroupSizes. Each part
// keeps the table's row order. O(n) time.
func Random(t *ratings.Table, ratios []float64, seed int64) ([]*ratings.Table, error) {
	cuts, err := Cuts(ratios)
	if err != nil {
		return nil, err
	}
	n := t.Len()
	if n > math.MaxInt32 {
		return nil, fmt.Errorf("split: %d rows: at most %d supported", n, math.MaxInt32)
	}
	var sizes []int
	if len(ratios) == 1 {
		k := int(math.Floor(ratios[0] * float64(n)))
		sizes = []int{k, n - k}
	} else {
		sizes = groupSizes(n, cuts, nil)
	}
	perm := make([]int32, n)
	for i := range perm {
		perm[i] = int32(i)
	}
	shuffle(NewRand(seed), perm)
	part := make([]uint8, n)
	pos := 0
	for j, s := range sizes {
		for _, r := range perm[pos : pos+s] {
			part[r] = uint8(j)
		}
		pos += s
	}
	return subsets(t, part, sizes), nil
}

// Stratified splits every group (user or item, by by) in the given ratios,
// as python_stratified_split: groups with fewer than minRatings rows are
// dropped (minRatings ≤ 1 keeps all), the rows of each remaining group are
// shuffled and part j takes its share per GroupSizes. The groups are
// shuffled one after another in dense-index order from one NewRand(seed)
// stream, each group's rows starting in table order. O(n) time.
func Stratified(t *ratings.Table, ratios []float64, minRatings int, by By, seed int64) ([]*ratings.Table, error) {
	src := NewRand(seed)
	return stratify(t, ratios, minRatings, by, func(rows []int32) { shuffle(src, rows) })
}

// Chrono splits every group (user or item, by by) in the given ratios in
// time order, as python_chrono_split: groups with fewer than minRatings rows
// are dropped, each group's rows are ordered by timestamp (ties keep table
// order) and part j takes its share per GroupSizes, so the last part holds
// each group's most recent rows. It returns ErrNoTimes (wrapped) when the
// table has no timestamps. O(n log g) time for groups of size g.
func Chrono(t *ratings.Table, ratios []float64, minRatings int, by By) ([]*ratings.Table, error) {
	if !t.HasTimes() {
		return nil, fmt.Errorf("split: chronological split: %w", ErrNoTimes)
	}
	var buf []timeRow
	return stratify(t, ratios, minRatings, by, func(rows []int32) { sortByTime(t.Times, rows, &buf) })
}

// sortByTime orders rows by time, ties by row (rows start in row order).
// The keys are copied next to the rows first so that the sort touches
// contiguous memory; buf is reused between calls.
func sortByTime(times []int64, rows []int32, buf *[]timeRow) {
	sorted := true
	for k := 1; k < len(rows); k++ {
		if times[rows[k]] < times[rows[k-1]] {
			sorted = false
			break
		}
	}
	if sorted {
		return
	}
	tr := (*buf)[:0]
	for _, r := range rows {
		tr = append(tr, timeRow{times[r], r})
	}
	slices.SortFunc(tr, func(a, b timeRow) int {
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		return int(a.r - b.r)
	})
	for k := range tr {
		rows[k] = tr[k].r
	}
	*buf = tr
}

// timeRow is a sort key: a row's time and the row.
type timeRow struct {
	t int64
	r int32
}

// stratify groups the rows, drops small groups, orders each group with
// order and deals the ranks out to the parts.
func stratify(t *ratings.Table, ratios []float64, minRatings int, by By, order func([]int32)) ([]*ratings.Table, error) {
	cuts, err := Cuts(ratios)
	if err != nil {
		return nil, err
	}
	g, err := groupRows(t, by)
	if err != nil {
		return nil, err
	}
	part := make([]uint8, t.Len())
	sizes := make([]int, len(cuts)+1)
	var gs []int
	for k := range g.Len() {
		rows := g.Of(k)
		if len(rows) == 0 {
			continue
		}
		if len(rows) < minRatings {
			for _, r := range rows {
				part[r] = dropped
			}
			continue
		}
		order(rows)
		gs = groupSizes(len(rows), cuts, gs)
		pos := 0
		for j, s := range gs {
			for _, r := range rows[pos : pos+s] {
				part[r] = uint8(j)
			}
			pos += s
			sizes[j] += s
		}
	}
	return subsets(t, part, sizes), nil
}

// dropped marks rows that go to no part.
const dropped = math.MaxUint8

// groupRows groups t's rows by user or item: the rows of group k, in table
// order, are Of(k).
func groupRows(t *ratings.Table, by By) (ratings.Groups[int32], error) {
	if n := t.Len(); n > math.MaxInt32 {
		return ratings.Groups[int32]{}, fmt.Errorf("split: %d rows: at most %d supported", n, math.MaxInt32)
	}
	key, ng := groupKey(t, by)
	return ratings.GroupBy[int32](key, ng), nil
}

// subsets builds one table per part from the part of every row, keeping
// table order; sizes[j] is the number of rows of part j. Like
// ratings.Table.Subset, but in one pass and without row-index lists.
func subsets(t *ratings.Table, part []uint8, sizes []int) []*ratings.Table {
	out := make([]*ratings.Table, len(sizes))
	for j, s := range sizes {
		p := &ratings.Table{UserIDs: t.UserIDs, ItemIDs: t.ItemIDs,
			Users: make([]int32, 0, s), Items: make([]int32, 0, s), Ratings: make([]float32, 0, s)}
		if t.Times != nil {
			p.Times = make([]int64, 0, s)
		}
		out[j] = p
	}
	for r, j := range part {
		if j == dropped {
			continue
		}
		p := out[j]
		p.Users = append(p.Users, t.Users[r])
		p.Items = append(p.Items, t.Items[r])
		p.Ratings = append(p.Ratings, t.Ratings[r])
		if t.Times != nil {
			p.Times = append(p.Times, t.Times[r])
		}
	}
	return out
}

// LeaveLast gives, for every user, the k most recent ratings to test and
// the rest to train (ties in time: the later table row counts as more
// recent). A user with k or fewer ratings keeps the oldest one in train and
// gives the others to test, so every test user also appears in train; a
// user with a single rating stays in train. It returns [train, test], or
// ErrNoTimes (wrapped) when the table has no timestamps. O(n log g).
func LeaveLast(t *ratings.Table, k int) ([]*ratings.Table, error) {
	if k < 1 {
		return nil, fmt.Errorf("split: leave-last %d: k must be at least 1", k)
	}
	if !t.HasTimes() {
		return nil, fmt.Errorf("split: leave-last split: %w", ErrNoTimes)
	}
	g, err := groupRows(t, ByUser)
	if err != nil {
		return nil, err
	}
	part := make([]uint8, t.Len())
	sizes := make([]int, 2)
	var buf []timeRow
	for u := range g.Len() {
		rows := g.Of(u)
		if len(rows) == 0 {
			continue
		}
		sortByTime(t.Times, rows, &buf)
		nt := min(k, len(rows)-1)
		for _, r := range rows[len(rows)-nt:] {
			part[r] = 1
		}
		sizes[0] += len(rows) - nt
		sizes[1] += nt
	}
	return subsets(t, part, sizes), nil
}

// MinRatings returns the rows of t whose group (user or item, by by) has at
// least min rows, in table order, sharing t's dictionaries. min ≤ 1 returns
// t itself. Recommenders' min_rating_filter_pandas.
func MinRatings(t *ratings.Table, min int, by By) *ratings.Table {
	if min <= 1 {
		return t
	}
	key, ng := groupKey(t, by)
	count := make([]int, ng)
	for _, k := range key {
		count[k]++
	}
	keep := 0
	part := make([]uint8, len(key))
	for r, k := range key {
		if count[k] >= min {
			keep++
		} else {
			part[r] = dropped
		}
	}
	return subsets(t, part, []int{keep})[0]
}

// ColdStart counts what of test is unknown to train: users with test rows
// but no train rows, items likewise, and test rows whose user or item has
// no train rows. The tables may share dictionaries (as the parts of a
// split do) or not, in which case ids are matched by their original
// string. O(rows + dictionary sizes).
func ColdStart(train, test *ratings.Table) (users, items, rows int) {
	uKnown := known(train.Users, train.UserIDs, test.UserIDs, train.UserIndex)
	iKnown := known(train.Items, train.ItemIDs, test.ItemIDs, train.ItemIndex)
	uSeen := make([]bool, len(test.UserIDs))
	iSeen := make([]bool, len(test.ItemIDs))
	for r := range test.Len() {
		u, i := test.Users[r], test.Items[r]
		if !uKnown[u] {
			if !uSeen[u] {
				uSeen[u] = true
				users++
			}
		}
		if !iKnown[i] {
			if !iSeen[i] {
				iSeen[i] = true
				items++
			}
		}
		if !uKnown[u] || !iKnown[i] {
			rows++
		}
	}
	return users, items, rows
}

// known reports, for every entry of the test dictionary, whether train has
// a row with that id.
func known(trainIdx []int32, trainIDs, testIDs []string, lookup func(string) (int32, bool)) []bool {
	has := make([]bool, len(trainIDs))
	for _, v := range trainIdx {
		has[v] = true
	}
	if sameSlice(trainIDs, testIDs) {
		return has
	}
	out := make([]bool, len(testIDs))
	for k, id := range testIDs {
		if v, ok := lookup(id); ok {
			out[k] = has[v]
		}
	}
	return out
}

func sameSlice(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// groupKey returns each row's group (its user or item index) and the
// number of groups.
func groupKey(t *ratings.Table, by By) (key []int32, n int) {
	switch by {
	case ByUser:
		return t.Users, t.NumUsers()
	case ByItem:
		return t.Items, t.NumItems()
	}
	panic(fmt.Sprintf("split: invalid By %d", int(by)))
}

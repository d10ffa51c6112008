package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/ratings"
	"github.com/recs-dev/recs/topk"
)

// Options say which metrics to compute and how.
type Options struct {
	// K lists the list lengths of the ranking metrics (each ≥ 1); nil
	// means {10}. The lists are computed once at the largest k.
	K []int
	// Metrics are the metric names to compute (RatingMetrics,
	// RankingMetrics); nil means all. Ranking work is skipped when no
	// ranking metric is asked for, rating work likewise.
	Metrics []string
	// RelevanceThreshold, when set, makes only test ratings ≥ it relevant
	// for the ranking metrics (rating metrics always use every test row).
	RelevanceThreshold *float64
	// IncludeSeen keeps the items a user rated in the training data among
	// the candidates. Without it the training data is required.
	IncludeSeen bool
	// Threads is the number of scoring goroutines; 0 means GOMAXPROCS.
	// Metrics do not depend on it.
	Threads int
	// Progress, if not nil, is told how many users will be ranked and
	// then each user ranked (a *progress.Reporter fits).
	Progress Progress
}

// Progress receives the advance of the ranking pass.
type Progress interface {
	SetTotal(n int64)
	Add(n int64)
}

// Candidate and tie rules, as written into Settings.
const (
	candidatesModel       = "every model item the user did not rate in the training data"
	candidatesModelSeen   = "every model item"
	candidatesPreds       = "the user's predictions, without items the user rated in the training data"
	candidatesPredsSeen   = "the user's predictions"
	candidatesPredsNoSeen = "the user's predictions (no training data given)"
	tiesModel             = "higher score first, then lower model item row (package topk)"
	tiesPreds             = "higher score first, then earlier in the predictions file (stable sort, as pandas)"
)

type normalized struct {
	Options
	rating, ranking bool
	ks              []int
	want            map[string]bool
}

func (o Options) normalize() (*normalized, error) {
	n := &normalized{Options: o, want: map[string]bool{}}
	n.ks = slices.Clone(o.K)
	if n.ks == nil {
		n.ks = []int{10}
	}
	if len(n.ks) == 0 {
		return nil, errors.New("eval: no k given")
	}
	slices.Sort(n.ks)
	n.ks = slices.Compact(n.ks)
	if n.ks[0] < 1 {
		return nil, fmt.Errorf("eval: k must be at least 1, got %d", n.ks[0])
	}
	names := o.Metrics
	if names == nil {
		names = allNames()
	}
	if len(names) == 0 {
		return nil, errors.New("eval: no metric asked for")
	}
	for _, name := range names {
		if _, ok := Definitions[name]; !ok {
			return nil, fmt.Errorf("eval: unknown metric %q (known: %s)", name, strings.Join(allNames(), ", "))
		}
		n.want[name] = true
		if slices.Contains(RatingMetrics, name) {
			n.rating = true
		} else {
			n.ranking = true
		}
	}
	if t := o.RelevanceThreshold; t != nil && (math.IsNaN(*t) || math.IsInf(*t, 0)) {
		return nil, fmt.Errorf("eval: relevance threshold %v is not a finite number", *t)
	}
	return n, nil
}

func (n *normalized) document(candidates, ties string) *Document {
	d := &Document{Format: FormatName, Version: FormatVersion}
	d.Settings = Settings{K: n.ks, RelevanceThreshold: n.RelevanceThreshold, IncludeSeen: n.IncludeSeen,
		Candidates: candidates, Ties: ties}
	for _, name := range allNames() {
		if n.want[name] {
			d.Settings.Metrics = append(d.Settings.Metrics, name)
		}
	}
	return d
}

// keep appends the asked-for metrics of ms to the document.
func (n *normalized) keep(d *Document, ms []Metric) {
	for _, m := range ms {
		if n.want[m.Name] {
			d.Metrics = append(d.Metrics, m)
		}
	}
}

// relevant reports whether a test rating is relevant.
func (n *normalized) relevant(r float32) bool {
	return n.RelevanceThreshold == nil || float64(r) >= *n.RelevanceThreshold
}

// countRelevant returns how many of a user's test ratings are relevant.
func (n *normalized) countRelevant(vals []float32) int {
	c := 0
	for _, v := range vals {
		if n.relevant(v) {
			c++
		}
	}
	return c
}

// testStats fills the test counts and checks the test set is usable.
func testStats(d *Document, test *ratings.Table, name string) error {
	if test == nil || test.Len() == 0 {
		return errs.Input(name, errors.New("the test set is empty"))
	}
	d.Counts.TestRows = test.Len()
	d.Counts.TestUsers = test.ActiveUsers()
	d.Counts.TestItems = test.ActiveItems()
	return nil
}

// relScratch builds one test user's relevant items: distinct test-table
// items with a relevant rating, mapped to another numbering (-1: none).
type relScratch struct {
	tab   []int32
	known []int32
}

func (s *relScratch) build(n *normalized, test *ratings.Table, tu int, mapItem []int32) (known []int32, nrel int) {
	cols, vals := test.ByUser().Row(tu)
	s.tab = s.tab[:0]
	for j, it := range cols {
		if n.relevant(vals[j]) {
			s.tab = append(s.tab, it)
		}
	}
	slices.Sort(s.tab)
	s.tab = slices.Compact(s.tab)
	s.known = s.known[:0]
	for _, it := range s.tab {
		if m := mapItem[it]; m >= 0 {
			s.known = append(s.known, m)
		}
	}
	slices.Sort(s.known)
	return s.known, len(s.tab)
}

// EvaluateModel measures model m on test: rating metrics from the model's
// predictions (the dot product, in float32 as Spark computes it) for the
// test rows whose user and item the model knows, ranking metrics from each
// test user's top max(K) among the model's items (without the items the
// user rated in train, unless IncludeSeen; train may be nil then). Test,
// train and model are matched by original id.
//
// The returned document has Model, Settings, Counts, Warnings and Metrics
// filled; Tool and Inputs are the caller's. Errors (input errors naming
// "test" or "train" where they are about the data): an empty test set, no
// test user or no test item known to the model, training data sharing no
// (user, item) with the model, no test user left to rank, invalid options.
func EvaluateModel(ctx context.Context, m *als.Model, train, test *ratings.Table, opts Options) (*Document, error) {
	n, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	cands := candidatesModel
	if n.IncludeSeen {
		cands = candidatesModelSeen
	}
	d := n.document(cands, tiesModel)
	d.Model = &ModelInfo{ID: m.ID}
	if m.Params != nil {
		if d.Model.Params, err = json.Marshal(m.Params); err != nil {
			return nil, err
		}
	}
	if err := testStats(d, test, "test"); err != nil {
		return nil, err
	}
	if train != nil {
		d.Counts.TrainRows = train.Len()
	}
	if n.ranking && !n.IncludeSeen && train == nil {
		return nil, errors.New("eval: ranking without IncludeSeen needs the training data")
	}
	mp := topk.MapTable(m, test)
	if mp.UsersFound == 0 {
		return nil, errs.Input("test", fmt.Errorf("none of the %d test users is in the model (test ids look like %s, model ids like %s): are they from the same data set?",
			d.Counts.TestUsers, sample(test.UserIDs), sample(m.UserIDs)))
	}
	if mp.ItemsFound == 0 {
		return nil, errs.Input("test", fmt.Errorf("none of the %d test items is in the model (test ids look like %s, model ids like %s): are they from the same data set?",
			d.Counts.TestItems, sample(test.ItemIDs), sample(m.ItemIDs)))
	}
	coldUsers, coldItems := 0, 0
	userSeen := make([]bool, test.NumUsers())
	itemSeen := make([]bool, test.NumItems())
	var ra RatingAccumulator
	for r := range test.Users {
		tu, ti := test.Users[r], test.Items[r]
		u, i := mp.Users[tu], mp.Items[ti]
		if u < 0 && !userSeen[tu] {
			coldUsers++
		}
		if i < 0 && !itemSeen[ti] {
			coldItems++
		}
		userSeen[tu], itemSeen[ti] = true, true
		if u < 0 || i < 0 {
			d.Counts.ColdStartRows++
			continue
		}
		if n.rating {
			p := als.Dot(m.UserVec(int(u)), m.ItemVec(int(i)))
			if math.IsNaN(float64(p)) || math.IsInf(float64(p), 0) {
				return nil, fmt.Errorf("eval: the model predicts %v for user %q item %q", p, test.UserIDs[tu], test.ItemIDs[ti])
			}
			ra.Add(float64(test.Ratings[r]), float64(p))
		}
	}
	d.Counts.ColdStartUsers, d.Counts.ColdStartItems = coldUsers, coldItems
	d.Counts.RatingRows = test.Len() - d.Counts.ColdStartRows
	if coldUsers > 0 {
		d.Warnings = append(d.Warnings, fmt.Sprintf("%d of %d test users are not in the model: their rows are dropped (cold start)", coldUsers, d.Counts.TestUsers))
	}
	if coldItems > 0 {
		d.Warnings = append(d.Warnings, fmt.Sprintf("%d of %d test items are not in the model: their rows are dropped from the rating metrics and stay relevant (never hit) in the ranking metrics", coldItems, d.Counts.TestItems))
	}
	if n.rating {
		n.keep(d, ra.Metrics())
	}
	if !n.ranking {
		return d, nil
	}

	var ex *topk.Exclusion
	if !n.IncludeSeen {
		ex = topk.NewExclusion(m, train)
		if train.Len() > 0 && ex.RowsMapped == 0 {
			return nil, errs.Input("train", fmt.Errorf("no training row has both its user and its item in the model (train ids look like %s, model ids like %s): is it the data the model was fit on?",
				sample(train.UserIDs), sample(m.UserIDs)))
		}
		d.Counts.ExcludedPairs = ex.Pairs()
	}
	d.Counts.CatalogueItems = len(m.ItemIDs)

	// Users to rank: test users the model knows with a relevant rating.
	testOf := make([]int32, len(m.UserIDs))
	for i := range testOf {
		testOf[i] = -1
	}
	var users []int32
	byUser := test.ByUser()
	for tu := 0; tu < test.NumUsers(); tu++ {
		cols, vals := byUser.Row(tu)
		if len(cols) == 0 {
			continue
		}
		rel := n.countRelevant(vals)
		d.Counts.BelowThresholdRows += len(cols) - rel
		if u := mp.Users[tu]; u >= 0 && rel > 0 {
			testOf[u] = int32(tu)
			users = append(users, u)
		}
	}
	slices.Sort(users)
	if len(users) == 0 {
		return nil, errs.Input("test", fmt.Errorf("no test user known to the model has a relevant rating%s", thresholdNote(n)))
	}
	if n.Progress != nil {
		n.Progress.SetTotal(int64(len(users)))
	}
	acc := NewRankingAccumulator(n.ks, len(m.ItemIDs), len(m.ItemIDs))
	var rs relScratch
	err = topk.Each(ctx, m, topk.Options{K: acc.MaxK(), Users: users, Exclude: ex, Threads: n.Threads},
		func(u int32, items []int32, _ []float32) error {
			rel, nrel := rs.build(n, test, int(testOf[u]), mp.Items)
			if !acc.Add(items, rel, nrel) {
				d.Counts.NoCandidateUsers++
			}
			if n.Progress != nil {
				n.Progress.Add(1)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	return finishRanking(d, n, acc)
}

func finishRanking(d *Document, n *normalized, acc *RankingAccumulator) (*Document, error) {
	d.Counts.RankedUsers = acc.Users()
	d.Counts.RelevantItems = acc.Relevant()
	if d.Counts.NoCandidateUsers > 0 {
		d.Warnings = append(d.Warnings, fmt.Sprintf("%d users have no candidate item left (they rated every item): they are not ranked", d.Counts.NoCandidateUsers))
	}
	if acc.Users() == 0 {
		return nil, errs.Input("test", errors.New("no test user with a relevant rating has a candidate item to rank"))
	}
	n.keep(d, acc.Metrics())
	return d, nil
}

func thresholdNote(n *normalized) string {
	if n.RelevanceThreshold == nil {
		return ""
	}
	return fmt.Sprintf(" (ratings ≥ %g under --relevance-threshold)", *n.RelevanceThreshold)
}

// sample quotes the first few ids of a dictionary for error messages.
func sample(ids []string) string {
	var q []string
	for _, id := range ids[:min(3, len(ids))] {
		q = append(q, fmt.Sprintf("%q", id))
	}
	if len(q) == 0 {
		return "(none)"
	}
	return strings.Join(q, ", ")
}

// EvaluatePredictions measures predictions made elsewhere on test: rating
// metrics over the test rows that have a prediction (inner join), ranking
// metrics from each user's predictions ordered by score (equal scores keep
// the predictions' order) without the items the user rated in train (when
// train is given and IncludeSeen is false), cut at max(K). The catalogue
// for coverage is the distinct items of train, or of the predictions when
// train is nil.
//
// Errors: an empty test set, no test user with a prediction, a (user, item)
// pair predicted twice, no test user left to rank, invalid options.
func EvaluatePredictions(ctx context.Context, p *Predictions, train, test *ratings.Table, opts Options) (*Document, error) {
	n, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	cands := candidatesPreds
	switch {
	case n.IncludeSeen:
		cands = candidatesPredsSeen
	case train == nil:
		cands = candidatesPredsNoSeen
	}
	d := n.document(cands, tiesPreds)
	if p.Model != "" {
		d.Model = &ModelInfo{ID: p.Model}
	}
	if err := testStats(d, test, "test"); err != nil {
		return nil, err
	}
	if train != nil {
		d.Counts.TrainRows = train.Len()
	}
	if p.Len() == 0 {
		return nil, errs.Input(p.Source, errors.New("no predictions"))
	}

	// Rows grouped by user, in the order they were added (stable).
	np := len(p.UserIDs)
	pg := ratings.GroupBy[int32](p.Users, np)
	stamp := make([]int32, len(p.ItemIDs))
	for u := 0; u < np; u++ {
		for _, r := range pg.Of(u) {
			it := p.Items[r]
			if stamp[it] == int32(u)+1 {
				return nil, errs.Input(p.Source, fmt.Errorf("user %q item %q is predicted twice", p.UserIDs[u], p.ItemIDs[it]))
			}
			stamp[it] = int32(u) + 1
		}
	}

	mapIDs := func(ids []string, idx map[string]int32) ([]int32, int) {
		out := make([]int32, len(ids))
		found := 0
		for i, id := range ids {
			out[i] = -1
			if v, ok := idx[id]; ok {
				out[i] = v
				found++
			}
		}
		return out, found
	}
	tUsers, found := mapIDs(test.UserIDs, p.userIdx)
	if found == 0 {
		return nil, errs.Input(p.Source, fmt.Errorf("no test user has a prediction (test ids look like %s, predicted users like %s): are they from the same data set?",
			sample(test.UserIDs), sample(p.UserIDs)))
	}
	tItems, _ := mapIDs(test.ItemIDs, p.itemIdx)

	// Rating metrics: inner join on (user, item).
	var score map[uint64]float32
	if n.rating {
		score = make(map[uint64]float32, p.Len())
		for r := range p.Users {
			score[uint64(p.Users[r])<<32|uint64(p.Items[r])] = p.Scores[r]
		}
	}
	userSeen := make([]bool, test.NumUsers())
	itemSeen := make([]bool, test.NumItems())
	var ra RatingAccumulator
	for r := range test.Users {
		tu, ti := test.Users[r], test.Items[r]
		u, i := tUsers[tu], tItems[ti]
		if u < 0 && !userSeen[tu] {
			d.Counts.ColdStartUsers++
		}
		if i < 0 && !itemSeen[ti] {
			d.Counts.ColdStartItems++
		}
		userSeen[tu], itemSeen[ti] = true, true
		if u < 0 || i < 0 {
			d.Counts.ColdStartRows++
			continue
		}
		s, ok := score[uint64(u)<<32|uint64(i)]
		if !n.rating {
			continue
		}
		if !ok {
			d.Counts.ColdStartRows++
			continue
		}
		ra.Add(float64(test.Ratings[r]), float64(s))
	}
	if !n.rating {
		d.Counts.ColdStartRows = 0 // only defined for the join
	}
	d.Counts.RatingRows = ra.N()
	if d.Counts.ColdStartUsers > 0 {
		d.Warnings = append(d.Warnings, fmt.Sprintf("%d of %d test users have no prediction: their rows are dropped", d.Counts.ColdStartUsers, d.Counts.TestUsers))
	}
	if n.rating {
		if ra.N() == 0 {
			d.Warnings = append(d.Warnings, "rating metrics skipped: no test row has a prediction")
		}
		n.keep(d, ra.Metrics())
	}
	if !n.ranking {
		return d, nil
	}

	// Training pairs to exclude, in prediction numbering.
	var seen [][]int32
	if train != nil {
		catalogue := train.ActiveItems()
		d.Counts.CatalogueItems = catalogue
		if !n.IncludeSeen {
			trU, _ := mapIDs(train.UserIDs, p.userIdx)
			trI, _ := mapIDs(train.ItemIDs, p.itemIdx)
			seen = make([][]int32, np)
			for r := range train.Users {
				if u, i := trU[train.Users[r]], trI[train.Items[r]]; u >= 0 && i >= 0 {
					seen[u] = append(seen[u], i)
				}
			}
			for u := range seen {
				slices.Sort(seen[u])
				seen[u] = slices.Compact(seen[u])
				d.Counts.ExcludedPairs += len(seen[u])
			}
		}
	} else {
		d.Counts.CatalogueItems = len(p.ItemIDs)
	}

	acc := NewRankingAccumulator(n.ks, len(p.ItemIDs), d.Counts.CatalogueItems)
	var rs relScratch
	var list []int32
	var order []int32
	byUser := test.ByUser()
	if n.Progress != nil {
		n.Progress.SetTotal(int64(found))
	}
	for tu := 0; tu < test.NumUsers(); tu++ {
		cols, vals := byUser.Row(tu)
		if len(cols) == 0 {
			continue
		}
		rel := n.countRelevant(vals)
		d.Counts.BelowThresholdRows += len(cols) - rel
		u := tUsers[tu]
		if u < 0 || rel == 0 {
			continue
		}
		if tu%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		order = append(order[:0], pg.Of(int(u))...)
		slices.SortStableFunc(order, func(a, b int32) int {
			sa, sb := p.Scores[a], p.Scores[b]
			switch {
			case sa > sb:
				return -1
			case sa < sb:
				return 1
			}
			return 0
		})
		list = list[:0]
		for _, r := range order {
			it := p.Items[r]
			if seen != nil {
				if _, ok := slices.BinarySearch(seen[u], it); ok {
					continue
				}
			}
			list = append(list, it)
			if len(list) == acc.MaxK() {
				break
			}
		}
		relKnown, nrel := rs.build(n, test, tu, tItems)
		if !acc.Add(list, relKnown, nrel) {
			d.Counts.NoCandidateUsers++
		}
		if n.Progress != nil {
			n.Progress.Add(1)
		}
	}
	if acc.Users() == 0 && d.Counts.NoCandidateUsers == 0 {
		return nil, errs.Input("test", fmt.Errorf("no test user with predictions has a relevant rating%s", thresholdNote(n)))
	}
	return finishRanking(d, n, acc)
}

package eval

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/ratings"
	"github.com/recs-dev/recs/topk"
)

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
	n, d, err := begin(opts, train, test, predsCandidates(train), tiesPreds)
	if err != nil {
		return nil, err
	}
	if p.Model != "" {
		d.Model = &ModelInfo{ID: p.Model}
	}
	if p.Len() == 0 {
		return nil, errs.Input(p.Source, errors.New("no predictions"))
	}
	byUser, err := p.groupByUser()
	if err != nil {
		return nil, err
	}
	mp := topk.MapIDs(test, p.userIndex, p.itemIndex)
	if mp.UsersFound == 0 {
		return nil, errs.Input(p.Source, fmt.Errorf("no test user has a prediction (test ids look like %s, predicted users like %s): are they from the same data set?",
			sample(test.UserIDs), sample(p.UserIDs)))
	}

	var predict predictFunc
	if n.rating {
		score := make(map[uint64]float32, p.Len())
		for r := range p.Users {
			score[uint64(p.Users[r])<<32|uint64(p.Items[r])] = p.Scores[r]
		}
		predict = func(_ int, u, i int32) (float32, bool, error) {
			s, ok := score[uint64(u)<<32|uint64(i)]
			return s, ok, nil
		}
	}
	ra, err := rate(d, test, mp, predict)
	if err != nil {
		return nil, err
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
	return rankPredictions(ctx, n, d, p, byUser, train, test, mp)
}

func predsCandidates(train *ratings.Table) func(*normalized) string {
	return func(n *normalized) string {
		switch {
		case n.IncludeSeen:
			return candidatesPredsSeen
		case train == nil:
			return candidatesPredsNoSeen
		}
		return candidatesPreds
	}
}

// groupByUser groups the rows by user, in the order they were added, and
// fails on a (user, item) pair predicted twice.
func (p *Predictions) groupByUser() (ratings.Groups[int32], error) {
	g := ratings.GroupBy[int32](p.Users, len(p.UserIDs))
	stamp := make([]int32, len(p.ItemIDs))
	for u := range g.Len() {
		for _, r := range g.Of(u) {
			it := p.Items[r]
			if stamp[it] == int32(u)+1 {
				return g, errs.Input(p.Source, fmt.Errorf("user %q item %q is predicted twice", p.UserIDs[u], p.ItemIDs[it]))
			}
			stamp[it] = int32(u) + 1
		}
	}
	return g, nil
}

func (p *Predictions) userIndex(id string) (int, bool) {
	u, ok := p.userIdx[id]
	return int(u), ok
}

func (p *Predictions) itemIndex(id string) (int, bool) {
	i, ok := p.itemIdx[id]
	return int(i), ok
}

// rankPredictions computes the ranking metrics of EvaluatePredictions:
// each rankable test user's predictions ordered by score, without the
// items the user rated in train (when given, unless IncludeSeen), cut at
// max(K).
func rankPredictions(ctx context.Context, n *normalized, d *Document, p *Predictions, byUser ratings.Groups[int32], train, test *ratings.Table, mp *topk.Mapping) (*Document, error) {
	var ex *topk.Exclusion // nil excludes nothing
	d.Counts.CatalogueItems = len(p.ItemIDs)
	if train != nil {
		d.Counts.CatalogueItems = train.ActiveItems()
		if !n.IncludeSeen {
			ex = topk.NewExclusionMapped(topk.MapIDs(train, p.userIndex, p.itemIndex), len(p.UserIDs), train)
			d.Counts.ExcludedPairs = ex.Pairs()
		}
	}
	tus := rankable(d, n, test, mp.Users)
	if n.Progress != nil {
		n.Progress.SetTotal(int64(len(tus)))
	}
	rk := &ranking{n: n, d: d, test: test, items: mp.Items,
		acc: NewRankingAccumulator(n.ks, len(p.ItemIDs), d.Counts.CatalogueItems)}
	var list, order []int32
	for k, tu := range tus {
		if k%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		u := mp.Users[tu]
		list, order = p.topList(list[:0], order[:0], byUser.Of(int(u)), ex.Items(int(u)), rk.acc.MaxK())
		rk.add(int(tu), list)
	}
	if rk.acc.Users() == 0 && d.Counts.NoCandidateUsers == 0 {
		return nil, errs.Input("test", fmt.Errorf("no test user with predictions has a relevant rating%s", thresholdNote(n)))
	}
	return rk.finish()
}

// topList appends to list the items of a user's prediction rows, by score
// (highest first; equal scores keep the rows' order), skipping the items
// in seen (ascending), until it holds k. order is scratch space.
func (p *Predictions) topList(list, order, rows, seen []int32, k int) (_, _ []int32) {
	order = append(order, rows...)
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
	for _, r := range order {
		it := p.Items[r]
		if _, ok := slices.BinarySearch(seen, it); ok {
			continue
		}
		list = append(list, it)
		if len(list) == k {
			break
		}
	}
	return list, order
}

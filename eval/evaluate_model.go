package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/ratings"
	"github.com/recs-dev/recs/topk"
)

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
	n, d, err := begin(opts, train, test, modelCandidates, tiesModel)
	if err != nil {
		return nil, err
	}
	d.Model = &ModelInfo{ID: m.ID}
	if m.Params != nil {
		if d.Model.Params, err = json.Marshal(m.Params); err != nil {
			return nil, err
		}
	}
	if n.ranking && !n.IncludeSeen && train == nil {
		return nil, errors.New("eval: ranking without IncludeSeen needs the training data")
	}
	mp := topk.MapTable(m, test)
	if err := modelKnowsTest(d, m, test, mp); err != nil {
		return nil, err
	}
	var predict predictFunc
	if n.rating {
		predict = func(r int, u, i int32) (float32, bool, error) {
			p := als.Dot(m.UserVec(int(u)), m.ItemVec(int(i)))
			if math.IsNaN(float64(p)) || math.IsInf(float64(p), 0) {
				return 0, false, fmt.Errorf("eval: the model predicts %v for user %q item %q", p, test.UserIDs[test.Users[r]], test.ItemIDs[test.Items[r]])
			}
			return p, true, nil
		}
	}
	ra, err := rate(d, test, mp, predict)
	if err != nil {
		return nil, err
	}
	d.Counts.RatingRows = test.Len() - d.Counts.ColdStartRows
	if c := d.Counts.ColdStartUsers; c > 0 {
		d.Warnings = append(d.Warnings, fmt.Sprintf("%d of %d test users are not in the model: their rows are dropped (cold start)", c, d.Counts.TestUsers))
	}
	if c := d.Counts.ColdStartItems; c > 0 {
		d.Warnings = append(d.Warnings, fmt.Sprintf("%d of %d test items are not in the model: their rows are dropped from the rating metrics and stay relevant (never hit) in the ranking metrics", c, d.Counts.TestItems))
	}
	if n.rating {
		n.keep(d, ra.Metrics())
	}
	if !n.ranking {
		return d, nil
	}
	return rankModel(ctx, n, d, m, train, test, mp)
}

func modelCandidates(n *normalized) string {
	if n.IncludeSeen {
		return candidatesModelSeen
	}
	return candidatesModel
}

// modelKnowsTest fails when the model knows none of the test users or none
// of the test items: the ids are then likely from another data set.
func modelKnowsTest(d *Document, m *als.Model, test *ratings.Table, mp *topk.Mapping) error {
	if mp.UsersFound == 0 {
		return errs.Input("test", fmt.Errorf("none of the %d test users is in the model (test ids look like %s, model ids like %s): are they from the same data set?",
			d.Counts.TestUsers, sample(test.UserIDs), sample(m.UserIDs)))
	}
	if mp.ItemsFound == 0 {
		return errs.Input("test", fmt.Errorf("none of the %d test items is in the model (test ids look like %s, model ids like %s): are they from the same data set?",
			d.Counts.TestItems, sample(test.ItemIDs), sample(m.ItemIDs)))
	}
	return nil
}

// rankModel computes the ranking metrics of EvaluateModel: each rankable
// test user's top max(K) model items (package topk, in parallel), without
// the items the user rated in train unless IncludeSeen.
func rankModel(ctx context.Context, n *normalized, d *Document, m *als.Model, train, test *ratings.Table, mp *topk.Mapping) (*Document, error) {
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

	// The users to rank, in model rows (ascending, as topk wants them).
	tus := rankable(d, n, test, mp.Users)
	if len(tus) == 0 {
		return nil, errs.Input("test", fmt.Errorf("no test user known to the model has a relevant rating%s", thresholdNote(n)))
	}
	testOf := make([]int32, len(m.UserIDs))
	users := make([]int32, len(tus))
	for k, tu := range tus {
		users[k] = mp.Users[tu]
		testOf[users[k]] = tu
	}
	slices.Sort(users)
	if n.Progress != nil {
		n.Progress.SetTotal(int64(len(users)))
	}
	rk := &ranking{n: n, d: d, test: test, items: mp.Items,
		acc: NewRankingAccumulator(n.ks, len(m.ItemIDs), len(m.ItemIDs))}
	err := topk.Each(ctx, m, topk.Options{K: rk.acc.MaxK(), Users: users, Exclude: ex, Threads: n.Threads},
		func(u int32, items []int32, _ []float32) error {
			rk.add(int(testOf[u]), items)
			return nil
		})
	if err != nil {
		return nil, err
	}
	return rk.finish()
}

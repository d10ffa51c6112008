package eval

import (
	"context"
	"math"
	"testing"

	"github.com/recs-dev/recs/ratings"
)

// The fixture of Microsoft Recommenders' unit tests
// (recommenders-team/recommenders, tests/unit/recommenders/evaluation/
// conftest.py, rating_true and rating_pred). Expected values, k = 10,
// from the same
// fixture file (python_evaluation's results to 6 decimals; recomputed
// independently by testdata/eval/crosscheck.py, which prints
// 0.26666666666666666, 0.37777777777777777, 0.38172659753071586,
// 0.23613756613756612 twice, 7.254309064273454, 6.375,
// -31.699029126213595, -6.446601941747573).
var (
	fixtureUsers  = []string{"1", "2", "2", "2", "2", "2", "3", "3", "3", "3", "3", "3", "3", "3", "3", "3", "1", "1"}
	fixtureTruthI = []string{"3", "1", "4", "5", "6", "7", "2", "5", "6", "8", "9", "10", "11", "12", "13", "14", "1", "2"}
	fixtureRating = []float32{3, 5, 5, 3, 3, 1, 5, 5, 5, 4, 4, 3, 3, 3, 2, 1, 5, 4}
	fixturePredI  = []string{"12", "10", "3", "5", "11", "13", "4", "10", "7", "13", "1", "3", "5", "2", "11", "14", "3", "10"}
	fixtureScore  = []float32{12, 14, 13, 12, 11, 10, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 14, 13}

	fixtureWant = map[string]float64{
		"precision@10": 0.266667, "recall@10": 0.377778, "ndcg@10": 0.381727,
		"map@10": 0.236138, "map_at_k@10": 0.236138,
		"rmse": 7.254309, "mae": 6.375, "rsquared": -31.699029, "exp_var": -6.446602,
	}
)

func fixture() (*ratings.Table, *Predictions) {
	b := ratings.NewBuilder(false)
	p := NewPredictions("fixture")
	for r := range fixtureUsers {
		b.Add(fixtureUsers[r], fixtureTruthI[r], fixtureRating[r], 0)
		p.Add(fixtureUsers[r], fixturePredI[r], fixtureScore[r])
	}
	return b.Table(), p
}

// TestGoldenRecommenders reproduces Recommenders' published values on its
// own fixture to 1e-6 (the fixture's values are rounded to 6 decimals, so
// the tolerance is 5e-7 of rounding plus float64 noise).
func TestGoldenRecommenders(t *testing.T) {
	test, p := fixture()
	d, err := EvaluatePredictions(context.Background(), p, nil, test, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range fixtureWant {
		m, ok := d.Metrics.Get(key)
		if !ok {
			t.Fatalf("no %s", key)
		}
		if math.Abs(m.Value-want) > 1e-6 {
			t.Errorf("%s = %.9f, want %.6f (Recommenders)", key, m.Value, want)
		}
	}
	if d.Counts.RankedUsers != 3 || d.Counts.RatingRows != 8 {
		t.Errorf("ranked %d users, joined %d rows; want 3 and 8 (3 users; 8 (user, item) pairs in both)",
			d.Counts.RankedUsers, d.Counts.RatingRows)
	}
}

// TestGoldenSmallerK: at k = 3, computed by hand from the fixture. User 1
// ranks 3, 10, 12 (hit at rank 1; 3 relevant), user 2 ranks 10, 3, 5 (hit
// at 3; 5 relevant), user 3 ranks 4, 10, 7 (hit at 2; 10 relevant):
// precision = (1+1+1)/3/3 = 1/3; recall = (1/3+1/5+1/10)/3;
// ndcg = (1/idcg3 + (1/ln4)/idcg3 + (1/ln3)/idcg3)/3 with idcg3 = 1/ln2 +
// 1/ln3 + 1/ln4; map = (1/3 + (1/3)/5 + (1/2)/10)/3; map_at_k =
// (1/3 + (1/3)/3 + (1/2)/3)/3.
func TestGoldenSmallerK(t *testing.T) {
	test, p := fixture()
	d, err := EvaluatePredictions(context.Background(), p, nil, test, Options{K: []int{3}})
	if err != nil {
		t.Fatal(err)
	}
	idcg3 := 1/math.Log(2) + 1/math.Log(3) + 1/math.Log(4)
	want := map[string]float64{
		"precision@3": 1.0 / 3,
		"recall@3":    (1.0/3 + 1.0/5 + 1.0/10) / 3,
		"ndcg@3":      (1/math.Log(2) + 1/math.Log(4) + 1/math.Log(3)) / idcg3 / 3,
		"map@3":       (1.0/3 + (1.0/3)/5 + (1.0/2)/10) / 3,
		"map_at_k@3":  (1.0/3 + (1.0/3)/3 + (1.0/2)/3) / 3,
	}
	for key, w := range want {
		m, _ := d.Metrics.Get(key)
		if math.Abs(m.Value-w) > 1e-12 {
			t.Errorf("%s = %.12f, want %.12f", key, m.Value, w)
		}
	}
}

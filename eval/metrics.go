package eval

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Metric names. Ranking metrics and coverage take a k and are keyed
// "name@k" ("ndcg@10"); rating metrics are keyed by their name.
const (
	RMSE      = "rmse"
	MAE       = "mae"
	RSquared  = "rsquared"
	ExpVar    = "exp_var"
	Precision = "precision"
	Recall    = "recall"
	NDCG      = "ndcg"
	MAP       = "map"
	MAPAtK    = "map_at_k"
	Coverage  = "coverage"
)

// RatingMetrics and RankingMetrics list the metric names in document order.
var (
	RatingMetrics  = []string{RMSE, MAE, RSquared, ExpVar}
	RankingMetrics = []string{Precision, Recall, NDCG, MAP, MAPAtK, Coverage}
)

// Definitions holds the exact definition of each metric, as written into
// metrics documents.
var Definitions = map[string]string{
	RMSE:      "root mean squared error sqrt(Σ(r−p)²/n) over the test rows that have a prediction (inner join on user and item)",
	MAE:       "mean absolute error Σ|r−p|/n over the test rows that have a prediction (inner join on user and item)",
	RSquared:  "coefficient of determination 1 − Σ(r−p)²/Σ(r−mean(r))² over the joined rows (sklearn r2_score; 1 if both sums are 0, 0 if only the denominator is)",
	ExpVar:    "explained variance 1 − Var(r−p)/Var(r), population variances over the joined rows (sklearn explained_variance_score; 1 if both are 0, 0 if only Var(r) is)",
	Precision: "hits in the top k divided by k, averaged over users in both test and predictions (Recommenders precision_at_k)",
	Recall:    "hits in the top k divided by the user's number of relevant test items, averaged over users in both test and predictions (Recommenders recall_at_k)",
	NDCG:      "binary-relevance DCG of the top k, Σ over hits of 1/ln(1+rank), divided by the ideal DCG Σ_{i=1..min(k,relevant)} 1/ln(1+i), averaged over users in both test and predictions (Recommenders ndcg_at_k)",
	MAP:       "average precision of the top k, Σ over hits of (hits so far)/rank, divided by the user's number of relevant test items, averaged over users in both test and predictions (Recommenders map)",
	MAPAtK:    "average precision of the top k, Σ over hits of (hits so far)/rank, divided by min(k, number of relevant test items), averaged over users in both test and predictions (Recommenders map_at_k)",
	Coverage:  "distinct items in the evaluated users' top k divided by the number of catalogue items (Recommenders catalog_coverage over the evaluated lists)",
}

// LowerIsBetter reports whether smaller values of the metric are better
// (the error metrics RMSE and MAE); for every other metric higher is better.
func LowerIsBetter(name string) bool { return name == RMSE || name == MAE }

// Metric is one measured value.
type Metric struct {
	Name       string  `json:"-"`
	K          int     `json:"k,omitempty"` // 0 for rating metrics
	Value      float64 `json:"value"`
	N          int     `json:"n"` // users averaged over (ranking), joined rows (rating) or catalogue items (coverage)
	Definition string  `json:"definition"`
}

// Key returns "name@k" for metrics with a k and the name otherwise.
func (m Metric) Key() string { return Key(m.Name, m.K) }

// Key returns the document key of metric name at k (k = 0: no k).
func Key(name string, k int) string {
	if k == 0 {
		return name
	}
	return name + "@" + strconv.Itoa(k)
}

// SplitKey parses a metric key into its name and k (0 when it has none).
func SplitKey(key string) (name string, k int, err error) {
	name, ks, found := strings.Cut(key, "@")
	if found {
		k, err = strconv.Atoi(ks)
		if err != nil || k < 1 {
			return "", 0, fmt.Errorf("metric %q: k must be a positive integer", key)
		}
	}
	if _, ok := Definitions[name]; !ok {
		return "", 0, fmt.Errorf("unknown metric %q (known: %s)", name, strings.Join(allNames(), ", "))
	}
	if found == slices.Contains(RatingMetrics, name) {
		if found {
			return "", 0, fmt.Errorf("metric %q: %s takes no @k", key, name)
		}
		return "", 0, fmt.Errorf("metric %q: %s needs @k, e.g. %s@10", key, name, name)
	}
	return name, k, nil
}

func allNames() []string { return append(slices.Clone(RatingMetrics), RankingMetrics...) }

// ParseMetrics parses a comma-separated list of metric names ("ndcg,rmse");
// "" means all. It returns the names in document order.
func ParseMetrics(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return allNames(), nil
	}
	want := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if _, ok := Definitions[f]; !ok {
			return nil, fmt.Errorf("unknown metric %q (known: %s)", f, strings.Join(allNames(), ", "))
		}
		want[f] = true
	}
	var out []string
	for _, n := range allNames() {
		if want[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

// ParseKs parses a comma-separated list of list lengths ("5,10,20"),
// returning them sorted and de-duplicated; each must be at least 1.
func ParseKs(s string) ([]int, error) {
	var ks []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		k, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("k %q is not an integer", f)
		}
		if k < 1 {
			return nil, fmt.Errorf("k must be at least 1, got %d", k)
		}
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return slices.Compact(ks), nil
}

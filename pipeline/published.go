package pipeline

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/recs-dev/recs/eval"
)

// ML100kSHA256 is the SHA-256 of MovieLens 100k's u.data as GroupLens
// publishes it; a run whose input has this hash is compared with the
// published results.
const ML100kSHA256 = "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490"

// PublishedRow is one algorithm's published results on MovieLens 100k
// with the Microsoft Recommenders protocol (stratified by item, 75/25, seed
// 42, k = 10), from the "Algorithm Comparison" table of the
// recommenders-team/recommenders README.
type PublishedRow struct {
	Algorithm string
	Metrics   map[string]float64
	// Setting, when set, is the ALS setting the row was measured with: the
	// row is ALS itself, and it is shown only beside a run of that setting
	// (a Spark ALS figure says nothing about an implicit run at rank 64).
	// Rows of other algorithms, each with its own tuned setting, stand
	// beside any run of the protocol.
	Setting *ALSConfig
}

// sparkSetting is the setting of the Recommenders Spark ALS benchmark:
// explicit, rank 10, regParam 0.05, 15 iterations, Spark's λ·n scaling.
var sparkSetting = &ALSConfig{Rank: 10, Reg: 0.05, MaxIter: 15}

// matches reports whether run c is the setting s was measured with.
func (s *ALSConfig) matches(c ALSConfig) bool {
	return c.Rank == s.Rank && c.Reg == s.Reg && c.MaxIter == s.MaxIter && c.Implicit == s.Implicit &&
		!c.Biases && !c.Nonnegative && (c.RegMode == "" || c.RegMode == "spark")
}

// Published holds the Recommenders benchmark table for MovieLens 100k.
// The first row is the Spark ALS that recs reproduces in explicit mode.
var Published = []PublishedRow{
	{"Spark ALS (rank 10, reg 0.05, explicit)", map[string]float64{"map@10": 0.0047, "ndcg@10": 0.0442, "precision@10": 0.0485, "recall@10": 0.0178, "rmse": 0.9650, "mae": 0.7530}, sparkSetting},
	{"SVD (Surprise)", map[string]float64{"map@10": 0.0129, "ndcg@10": 0.0959, "precision@10": 0.0912, "recall@10": 0.0328, "rmse": 0.9387, "mae": 0.7427}, nil},
	{"SAR", map[string]float64{"map@10": 0.1106, "ndcg@10": 0.3825, "precision@10": 0.3308, "recall@10": 0.1764}, nil},
	{"BPR (Cornac)", map[string]float64{"map@10": 0.1325, "ndcg@10": 0.4420, "precision@10": 0.3882, "recall@10": 0.2125}, nil},
	{"BiVAE", map[string]float64{"map@10": 0.1461, "ndcg@10": 0.4751, "precision@10": 0.4118, "recall@10": 0.2191}, nil},
}

// publishedKeys are the columns of the comparison, in the table's order.
var publishedKeys = []string{"map@10", "ndcg@10", "precision@10", "recall@10", "rmse", "mae"}

// IsML100k reports whether the run's single input is MovieLens 100k's
// u.data, so that its metrics are comparable with Published.
func (res *Result) IsML100k() bool {
	m := res.Manifest
	return m != nil && len(m.Inputs) == 1 && m.Inputs[0].SHA256 == ML100kSHA256 &&
		m.Split.Method == "stratified" && m.Split.By == "item" && len(m.Split.Ratios) == 2 &&
		m.Split.Ratios[0] == 0.75 && m.Split.Seed == 42
}

// WritePublishedComparison prints doc's metrics, of a run with ALS setting
// run, beside the published rows that apply to it (see
// PublishedRow.Setting). Note that the published "map" is Recommenders' map
// (divided by |rel|), which recs reports as map@10.
func WritePublishedComparison(w io.Writer, doc *eval.Document, run ALSConfig) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "MovieLens 100k, Recommenders protocol\t")
	for _, k := range publishedKeys {
		fmt.Fprintf(tw, "%s\t", k)
	}
	fmt.Fprintln(tw)
	cur := map[string]float64{}
	for _, m := range doc.Metrics {
		cur[m.Key()] = m.Value
	}
	row := func(name string, vals map[string]float64) {
		fmt.Fprintf(tw, "%s\t", name)
		for _, k := range publishedKeys {
			if v, ok := vals[k]; ok {
				fmt.Fprintf(tw, "%.4f\t", v)
			} else {
				fmt.Fprint(tw, "—\t")
			}
		}
		fmt.Fprintln(tw)
	}
	row("recs (this run)", cur)
	for _, p := range Published {
		if p.Setting != nil && !p.Setting.matches(run) {
			continue
		}
		row(p.Algorithm, p.Metrics)
	}
	return tw.Flush()
}

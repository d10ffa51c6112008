package report

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/eval"
	"github.com/recs-dev/recs/ratings"
	"github.com/recs-dev/recs/rundir"
	"github.com/recs-dev/recs/toplist"
)

// fixtureTable returns a seeded synthetic training table: nu users, ni
// items with Zipf-like popularity (item j drawn with weight 1/(j+1)),
// ratings 1–5 skewed towards 4. Deterministic for a seed.
func fixtureTable(seed uint64, nu, ni, rows int) *ratings.Table {
	rng := rand.New(rand.NewPCG(seed, 1))
	cum := make([]float64, ni)
	var s float64
	for j := range cum {
		s += 1 / float64(j+1)
		cum[j] = s
	}
	b := ratings.NewBuilder(false)
	seen := map[[2]int]bool{}
	for b.Len() < rows {
		u := rng.IntN(nu)
		x := rng.Float64() * s
		i := 0
		for cum[i] < x {
			i++
		}
		if seen[[2]int{u, i}] {
			continue
		}
		seen[[2]int{u, i}] = true
		r := []float32{1, 2, 3, 3, 4, 4, 4, 5, 5}[rng.IntN(9)]
		b.Add(fmt.Sprintf("u%03d", u), fmt.Sprintf("i%03d", i), r, 0)
	}
	return b.Table()
}

// fixtureLists gives every user k items, item j chosen with weight
// 1/(j+1)^skew: skew > 1 concentrates on the head (popularity bias).
func fixtureLists(seed uint64, t *ratings.Table, k int, skew float64) []toplist.List {
	rng := rand.New(rand.NewPCG(seed, 2))
	ni := t.NumItems()
	cum := make([]float64, ni)
	var s float64
	for j := range cum {
		s += 1 / math.Pow(float64(j+1), skew)
		cum[j] = s
	}
	lists := make([]toplist.List, 0, t.NumUsers())
	for _, u := range t.UserIDs {
		l := toplist.List{User: u}
		got := map[int]bool{}
		for len(l.Items) < k {
			x := rng.Float64() * s
			i := 0
			for cum[i] < x {
				i++
			}
			if got[i] {
				continue
			}
			got[i] = true
			l.Items = append(l.Items, toplist.Item{ID: fmt.Sprintf("i%03d", i), Score: float32(k - len(l.Items))})
		}
		lists = append(lists, l)
	}
	return lists
}

// fixtureManifest is a complete manifest with fixed times.
func fixtureManifest() *rundir.Manifest {
	start := time.Date(2026, 11, 26, 6, 15, 0, 0, time.UTC)
	return &rundir.Manifest{
		RunID:       "20261126T061500Z-3f9a1c",
		ToolVersion: "v0.1.0-test",
		Started:     start,
		Finished:    start.Add(4*time.Second + 250*time.Millisecond),
		Status:      "ok",
		Inputs:      []rundir.Input{{Source: "ratings.csv", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Rows: 6000}},
		Split: rundir.SplitInfo{Method: "stratified", By: "item", Ratios: []float64{0.75, 0.25}, Seed: 42,
			TrainRows: 4500, TestRows: 1500, ColdUsers: 3, ColdItems: 40, ColdRows: 120},
		Params: json.RawMessage(`{"rank":10,"maxIter":12,"regParam":0.05,"implicitPrefs":false,"alpha":1,"seed":42,"coldStartStrategy":"drop"}`),
		Steps: []rundir.Step{{Name: "ingest", WallS: 0.21, PeakRSSMB: 41.5}, {Name: "split", WallS: 0.05, PeakRSSMB: 44},
			{Name: "fit", WallS: 2.6, PeakRSSMB: 80.25}, {Name: "eval", WallS: 0.9, PeakRSSMB: 96}, {Name: "recommend", WallS: 0.4, PeakRSSMB: 90}},
		Files: map[string]string{},
		Gate:  &rundir.Gate{Baseline: "runs/20261125T061500Z-aa01bc/metrics.json", Passed: true},
	}
}

// fixtureModel is a model with a recorded history: the loss falls as
// 5000·e^(−i/2) + 1000, training RMSE as 0.6 + 0.4·e^(−i/3), and
// validation RMSE is a parabola with its minimum at iteration 7, so the
// report must flag overfitting.
func fixtureModel(t *ratings.Table) *als.Model {
	p := als.Default()
	p.Reg, p.MaxIter, p.Seed = 0.05, 12, 42
	rng := rand.New(rand.NewPCG(3, 3))
	m := &als.Model{Rank: p.Rank, UserIDs: t.UserIDs, ItemIDs: t.ItemIDs, ID: "als-0123456789abcdef", Params: &p,
		UserFactors: make([]float32, len(t.UserIDs)*p.Rank), ItemFactors: make([]float32, len(t.ItemIDs)*p.Rank)}
	for j := range m.UserFactors {
		m.UserFactors[j] = float32(rng.NormFloat64())
	}
	for j := range m.ItemFactors {
		m.ItemFactors[j] = float32(rng.NormFloat64())
	}
	for i := 1; i <= p.MaxIter; i++ {
		x := float64(i)
		m.History = append(m.History, als.Iteration{Iter: i, Loss: 5000*math.Exp(-x/2) + 1000,
			TrainRMSE: 0.6 + 0.4*math.Exp(-x/3), Metric: "rmse", Validation: 0.95 + 0.002*(x-7)*(x-7),
			Duration: time.Duration(i) * 10 * time.Millisecond})
	}
	return m
}

// fixtureDoc is a metrics document of model "als-0123456789abcdef" for
// the given ks. Invented values with the shapes real curves have:
// precision@k = 0.35·(1 − 0.02k), recall@k = 0.25·k/(k+8), ndcg@k =
// 0.40 − 0.002k, map@k = 0.08·k/(k+3), coverage@k = 0.02k; RMSE 0.92 and
// MAE 0.72 (σ of the fixture's ratings is 1.28, so RMSE beats the mean).
func fixtureDoc(ks ...int) *eval.Document {
	d := &eval.Document{Format: eval.FormatName, Version: eval.FormatVersion, Tool: "recs v0.1.0-test",
		Model: &eval.ModelInfo{ID: "als-0123456789abcdef"},
		Settings: eval.Settings{K: ks, Metrics: append(append([]string{}, eval.RatingMetrics...), eval.RankingMetrics...),
			Candidates: "every model item the user did not rate in training", Ties: "model item row"},
		Counts: eval.Counts{TestRows: 1500, TestUsers: 380, TestItems: 260, TrainRows: 4500, ColdStartUsers: 3,
			ColdStartItems: 40, ColdStartRows: 120, RatingRows: 1380, CatalogueItems: 299, RankedUsers: 377, RelevantItems: 1380},
		Warnings: []string{"120 test rows dropped from the rating metrics: user or item unknown to the model"}}
	for _, n := range []struct {
		name string
		v    float64
	}{{eval.RMSE, 0.92}, {eval.MAE, 0.72}, {eval.RSquared, 0.31}, {eval.ExpVar, 0.32}} {
		d.Metrics = append(d.Metrics, eval.Metric{Name: n.name, Value: n.v, N: 1380, Definition: eval.Definitions[n.name]})
	}
	for _, k := range ks {
		x := float64(k)
		for _, n := range []struct {
			name string
			v    float64
		}{{eval.Precision, 0.35 * (1 - 0.02*x)}, {eval.Recall, 0.25 * x / (x + 8)}, {eval.NDCG, 0.40 - 0.002*x},
			{eval.MAP, 0.08 * x / (x + 3)}, {eval.MAPAtK, 0.09 * x / (x + 3)}, {eval.Coverage, 0.02 * x}} {
			d.Metrics = append(d.Metrics, eval.Metric{Name: n.name, K: k, Value: n.v, N: 377, Definition: eval.Definitions[n.name]})
		}
	}
	return d
}

// fixtureInputs is the complete sample run of the golden test.
func fixtureInputs() Inputs {
	tbl := fixtureTable(1, 400, 300, 6000)
	ks := make([]int, 20)
	for j := range ks {
		ks[j] = j + 1
	}
	return Inputs{RunDir: "runs/20261126T061500Z-3f9a1c", Manifest: fixtureManifest(), Model: fixtureModel(tbl),
		Metrics: fixtureDoc(10), Curves: fixtureDoc(ks...), Train: tbl, TopK: fixtureLists(2, tbl, 10, 1.2)}
}

func jsonMarshal(v any) ([]byte, error) { return json.MarshalIndent(v, "", "  ") }

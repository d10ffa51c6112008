package eval

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/ingest"
	"github.com/recs-dev/recs/internal/testenv"
	"github.com/recs-dev/recs/ratings"
	"github.com/recs-dev/recs/split"
	"github.com/recs-dev/recs/topk"
	"github.com/recs-dev/recs/toplist"
)

// The cross-checks run testdata/eval/crosscheck.py, an independent
// implementation of the metric definitions in Python's standard library,
// and compare its numbers with this package's to 1e-6.

const crosscheckScript = "../testdata/eval/crosscheck.py"

// runCrosscheck runs the script and returns its metrics.
func runCrosscheck(t *testing.T, args ...string) map[string]float64 {
	t.Helper()
	cmd := exec.Command(testenv.Python(t), append([]string{crosscheckScript}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("crosscheck.py %v: %v", args, err)
	}
	var m map[string]float64
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("crosscheck.py output: %v\n%s", err, out)
	}
	return m
}

// agree compares every metric of d with the script's, to 1e-6, and
// requires the script to have computed each of them.
func agree(t *testing.T, what string, d *Document, py map[string]float64) {
	t.Helper()
	if len(d.Metrics) == 0 {
		t.Fatalf("%s: no metrics", what)
	}
	for _, m := range d.Metrics {
		want, ok := py[m.Key()]
		if !ok {
			t.Errorf("%s: the script has no %s", what, m.Key())
			continue
		}
		if math.Abs(m.Value-want) > 1e-6 {
			t.Errorf("%s: %s = %.9f, Python %.9f", what, m.Key(), m.Value, want)
		}
	}
	if u := int(py["_users"]); d.Counts.RankedUsers != 0 && u != d.Counts.RankedUsers {
		t.Errorf("%s: %d users ranked, Python %d", what, d.Counts.RankedUsers, u)
	}
}

func writeTable(t *testing.T, path string, tab *ratings.Table) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for r := range tab.Users {
		fmt.Fprintf(w, "%s\t%s\t%s\n", tab.UserIDs[tab.Users[r]], tab.ItemIDs[tab.Items[r]],
			strconv.FormatFloat(float64(tab.Ratings[r]), 'g', -1, 32))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// writeAllPairs writes every (user, item) score of m as CSV, items in row
// order within each user: ties then keep row order, topk's rule.
func writeAllPairs(t *testing.T, path string, m *als.Model) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "user,item,score")
	for u := range m.UserIDs {
		for i := range m.ItemIDs {
			s := als.Dot(m.UserVec(u), m.ItemVec(i))
			fmt.Fprintf(w, "%s,%s,%s\n", m.UserIDs[u], m.ItemIDs[i], strconv.FormatFloat(float64(s), 'g', -1, 32))
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func writeTopk(t *testing.T, path string, m *als.Model, train *ratings.Table, k int) {
	t.Helper()
	var lists []toplist.List
	err := topk.Each(context.Background(), m, topk.Options{K: k, Exclude: topk.NewExclusion(m, train)},
		func(u int32, items []int32, scores []float32) error {
			l := toplist.List{User: m.UserIDs[u]}
			for j, it := range items {
				l.Items = append(l.Items, toplist.Item{ID: m.ItemIDs[it], Score: scores[j]})
			}
			lists = append(lists, l)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if err := toplist.WriteFile(path, toplist.Meta{Model: m.ID, K: k}, lists); err != nil {
		t.Fatal(err)
	}
}

// crossCheckModel evaluates m three ways and compares each with Python:
// EvaluateModel against the script ranking the full score matrix itself;
// EvaluatePredictions on the top-k file against the script on the same
// file; both with several k and a relevance threshold.
func crossCheckModel(t *testing.T, m *als.Model, train, test *ratings.Table, ks string, thr float64) {
	ctx := context.Background()
	dir := t.TempDir()
	trainF, testF := filepath.Join(dir, "train.tsv"), filepath.Join(dir, "test.tsv")
	allF, topF := filepath.Join(dir, "all.csv"), filepath.Join(dir, "top.jsonl")
	writeTable(t, trainF, train)
	writeTable(t, testF, test)
	writeAllPairs(t, allF, m)
	kl, err := ParseKs(ks)
	if err != nil {
		t.Fatal(err)
	}
	writeTopk(t, topF, m, train, kl[len(kl)-1])

	for _, th := range []*float64{nil, &thr} {
		args := []string{"--test", testF, "--train", trainF, "--k", ks}
		if th != nil {
			args = append(args, "--relevance-threshold", fmt.Sprint(*th))
		}
		what := fmt.Sprintf("threshold %v", th != nil)
		dm, err := EvaluateModel(ctx, m, train, test, Options{K: kl, RelevanceThreshold: th})
		if err != nil {
			t.Fatal(err)
		}
		agree(t, "model, "+what, dm, runCrosscheck(t, append(args, "--predictions", allF)...))

		p, err := ReadPredictionsFile(ctx, topF)
		if err != nil {
			t.Fatal(err)
		}
		dp, err := EvaluatePredictions(ctx, p, train, test, Options{K: kl, RelevanceThreshold: th, Metrics: RankingMetrics})
		if err != nil {
			t.Fatal(err)
		}
		agree(t, "top-k file, "+what, dp, runCrosscheck(t, append(args, "--topk", topF)...))
		for _, key := range []string{"precision@10", "recall@10", "ndcg@10", "map@10", "map_at_k@10", "coverage@10"} {
			a, _ := dm.Metrics.Get(key)
			b, _ := dp.Metrics.Get(key)
			if math.Abs(a.Value-b.Value) > 1e-12 { // same lists, users summed in another order
				t.Errorf("%s: %s model %v, top-k file %v", what, key, a.Value, b.Value)
			}
		}
		if th == nil {
			var sb strings.Builder
			for _, m := range dm.Metrics {
				fmt.Fprintf(&sb, " %s=%.6f", m.Key(), m.Value)
			}
			t.Logf("%d users ranked:%s", dm.Counts.RankedUsers, sb.String())
		}
	}
}

// TestCrosscheckFixture: the Recommenders fixture files through both
// implementations.
func TestCrosscheckFixture(t *testing.T) {
	ctx := context.Background()
	test, err := ingest.LoadTable(ctx, "../testdata/eval/fixture_truth.tsv")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ReadPredictionsFile(ctx, "../testdata/eval/fixture_pred.tsv")
	if err != nil {
		t.Fatal(err)
	}
	for _, ks := range []string{"10", "1,3,5"} {
		kl, _ := ParseKs(ks)
		d, err := EvaluatePredictions(ctx, p, nil, test, Options{K: kl})
		if err != nil {
			t.Fatal(err)
		}
		agree(t, "fixture k="+ks, d, runCrosscheck(t, "--test", "../testdata/eval/fixture_truth.tsv",
			"--predictions", "../testdata/eval/fixture_pred.tsv", "--k", ks))
	}
}

// TestCrosscheckRandom: a random model with integer factors (many exact
// ties, so the tie rules are checked too) and one with normal factors.
func TestCrosscheckRandom(t *testing.T) {
	for _, intF := range []bool{true, false} {
		w := newWorld(17, 80, 150, 6, intF)
		crossCheckModel(t, w.m, w.train, w.test, "1,5,10,20", 4)
	}
}

// TestCrosscheckML100K (u.data from internal/testenv): the Recommenders
// protocol (stratified 75/25 by item, seed 42) and the setting of the Spark
// ALS row of the Recommenders README's comparison table (rank 10, reg
// 0.05, 15 iterations, explicit), evaluated by
// recs and by the script over the full score matrix and the top-k file.
func TestCrosscheckML100K(t *testing.T) {
	path := testenv.ML100K(t)
	ctx := context.Background()
	tab, err := ingest.LoadTable(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := split.Stratified(tab, []float64{0.75}, 1, split.ByItem, 42)
	if err != nil {
		t.Fatal(err)
	}
	p := als.Default()
	p.Rank, p.Reg, p.MaxIter = 10, 0.05, 15
	m, err := als.Fit(ctx, parts[0], p)
	if err != nil {
		t.Fatal(err)
	}
	crossCheckModel(t, m, parts[0], parts[1], "5,10,20", 4)
}

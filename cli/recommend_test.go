package cli

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/toplist"
)

// TestRecommendMatchesBruteForce fits a small model, runs recs recommend
// with --exclude, and checks every list against scores computed here in
// float64 from the saved factors: the listed scores agree within 1e-4
// (float32 kernel against float64 dot products of rank 5), no rated item is
// listed, and no unlisted candidate beats the k-th listed item by more than
// the same tolerance. --threads 1 and 2 give identical lists.
func TestRecommendMatchesBruteForce(t *testing.T) {
	dir := t.TempDir()
	// 40 users × 30 items, 8 ratings each, seeded.
	rng := rand.New(rand.NewPCG(11, 3))
	var b strings.Builder
	rated := map[string]map[string]bool{}
	for u := 1; u <= 40; u++ {
		uid := fmt.Sprint(u)
		rated[uid] = map[string]bool{}
		for len(rated[uid]) < 8 {
			iid := fmt.Sprint(500 + rng.IntN(30))
			if rated[uid][iid] {
				continue
			}
			rated[uid][iid] = true
			fmt.Fprintf(&b, "%s\t%s\t%d\t%d\n", uid, iid, 1+rng.IntN(5), 880000000+u)
		}
	}
	train := filepath.Join(dir, "train.tsv")
	os.WriteFile(train, []byte(b.String()), 0o644)
	model := filepath.Join(dir, "model")
	if code, _, stderr := runArgs(t, "fit", train, "-o", model, "--rank", "5", "--max-iter", "5", "--seed", "3"); code != ExitOK {
		t.Fatalf("fit: exit %d\n%s", code, stderr)
	}
	out1, out2 := filepath.Join(dir, "t1.parquet"), filepath.Join(dir, "t2.jsonl.gz")
	for _, tc := range [][]string{{"--threads", "1", "-o", out1}, {"--threads", "2", "-o", out2}} {
		args := append([]string{"recommend", "--model", model, "--k", "7", "--exclude", train}, tc...)
		if code, _, stderr := runArgs(t, args...); code != ExitOK {
			t.Fatalf("recommend: exit %d\n%s", code, stderr)
		}
	}
	m, err := als.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	meta, lists, err := toplist.ReadFile(out1)
	if err != nil {
		t.Fatal(err)
	}
	_, lists2, err := toplist.ReadFile(out2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(lists, lists2) {
		t.Error("--threads 1 and --threads 2 gave different lists")
	}
	if meta.Model != m.ID || meta.K != 7 || len(lists) != 40 {
		t.Fatalf("meta %+v, %d lists", meta, len(lists))
	}
	const tol = 1e-4
	for _, l := range lists {
		u, ok := m.UserIndex(l.User)
		if !ok {
			t.Fatalf("list for unknown user %q", l.User)
		}
		score := func(item string) float64 {
			i, _ := m.ItemIndex(item)
			var s float64
			for f, x := range m.UserVec(u) {
				s += float64(x) * float64(m.ItemVec(i)[f])
			}
			return s
		}
		listed := map[string]bool{}
		for j, it := range l.Items {
			listed[it.ID] = true
			if rated[l.User][it.ID] {
				t.Errorf("user %s: rated item %s recommended", l.User, it.ID)
			}
			if d := math.Abs(float64(it.Score) - score(it.ID)); d > tol {
				t.Errorf("user %s item %s: score %v, float64 dot %v", l.User, it.ID, it.Score, score(it.ID))
			}
			if j > 0 && it.Score > l.Items[j-1].Score {
				t.Errorf("user %s: scores not in decreasing order", l.User)
			}
		}
		// 30 items, 8 rated (all in the model's catalogue): 22 candidates ≥ 7.
		if len(l.Items) != 7 {
			t.Errorf("user %s: %d items, want 7", l.User, len(l.Items))
		}
		kth := float64(l.Items[len(l.Items)-1].Score)
		for _, item := range m.ItemIDs {
			if !listed[item] && !rated[l.User][item] && score(item) > kth+tol {
				t.Errorf("user %s: unlisted item %s scores %v above the k-th %v", l.User, item, score(item), kth)
			}
		}
	}
}

package tune

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// quadratic is a synthetic objective with its optimum at reg = 10, rank =
// 64 and more iterations always better: score = 1 − (log10 reg − 1)² −
// ((rank − 64)/64)² − 1/iterations. It is deterministic, so rankings in the
// tests below follow from the formula alone.
func quadratic(ctx context.Context, p Params) (Outcome, error) {
	if err := ctx.Err(); err != nil {
		return Outcome{}, err
	}
	lr := math.Log10(p.Reg) - 1
	dr := float64(p.Rank-64) / 64
	score := 1 - lr*lr - dr*dr - 1/float64(p.MaxIter)
	return Outcome{Metrics: map[string]float64{"ndcg@10": score, "rmse": -score},
		Iterations: p.MaxIter, BestIter: p.MaxIter}, nil
}

func mustSpace(t *testing.T, src string) Space {
	t.Helper()
	s, err := ParseSpace([]byte(src), "space.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const testSpace = `
rank: {min: 8, max: 128, log: true}
reg: {min: 0.1, max: 100, log: true}
max_iter: 9
`

func TestSearchGrid(t *testing.T) {
	s := mustSpace(t, "rank: [32, 64]\nreg: {min: 1, max: 100, log: true, steps: 3}\n")
	res, err := Search(context.Background(), s, quadratic, Options{Strategy: Grid, Metric: "ndcg@10", Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Trials) != 6 {
		t.Fatalf("%d trials, want the 6 grid points", len(res.Trials))
	}
	for i, r := range res.Trials {
		if r.ID != i+1 {
			t.Errorf("trial %d has ID %d", i, r.ID)
		}
	}
	// The formula's optimum on this grid is rank 64, reg 10.
	if b := res.Best.Params; b.Rank != 64 || b.Reg != 10 {
		t.Errorf("best %s, want rank 64 reg 10", b)
	}
	// A grid larger than the budget is refused rather than cut.
	_, err = Search(context.Background(), s, quadratic, Options{Strategy: Grid, Metric: "ndcg@10", Budget: 5})
	if err == nil || !strings.Contains(err.Error(), "the grid has 6 points, more than the budget of 5") {
		t.Errorf("grid over budget: %v", err)
	}
}

// TestRandomReproducible checks that the seed alone decides the trials:
// the same seed gives the same points whatever the parallelism, another
// seed gives other points.
func TestRandomReproducible(t *testing.T) {
	s := mustSpace(t, testSpace)
	run := func(seed int64, parallel int) []Params {
		res, err := Search(context.Background(), s, quadratic, Options{Strategy: Random, Metric: "ndcg@10", Budget: 20, Seed: seed, Parallel: parallel})
		if err != nil {
			t.Fatal(err)
		}
		var ps []Params
		for _, r := range res.Trials {
			ps = append(ps, r.Params)
		}
		return ps
	}
	a, b, c := run(7, 1), run(7, 3), run(8, 1)
	if len(a) != 20 {
		t.Fatalf("%d trials, want 20", len(a))
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("seed 7 gave different trials with 1 and 3 workers")
	}
	if reflect.DeepEqual(a, c) {
		t.Errorf("seeds 7 and 8 gave the same trials")
	}
	// The points are distinct.
	seen := map[string]bool{}
	for _, p := range a {
		if seen[p.key()] {
			t.Errorf("point %s drawn twice", p)
		}
		seen[p.key()] = true
	}
}

// TestRandomFiniteSpace: a space of 4 points yields 4 trials under a budget
// of 10.
func TestRandomFiniteSpace(t *testing.T) {
	s := mustSpace(t, "rank: [8, 16]\nimplicit: [false, true]\n")
	res, err := Search(context.Background(), s, quadratic, Options{Strategy: Random, Metric: "ndcg@10", Budget: 10, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Trials) != 4 {
		t.Errorf("%d trials, want the 4 points of the space", len(res.Trials))
	}
}

func TestHalvingSizes(t *testing.T) {
	for _, tc := range []struct {
		budget, eta, rungs int
		want               []int
	}{
		// 27 + 9 + 3 = 39 fits a budget of 39 exactly; 28 + 9 + 3 = 40 does not.
		{39, 3, 3, []int{27, 9, 3}},
		// 26 + 8 + 2 = 36 ≤ 38 < 27 + 9 + 3.
		{38, 3, 3, []int{26, 8, 2}},
		// 70 + 23 + 7 = 100; 71 + 23 + 7 = 101.
		{100, 3, 3, []int{70, 23, 7}},
		// 54 + 27 + 13 + 6 = 100; 55 + 27 + 13 + 6 = 101.
		{100, 2, 4, []int{54, 27, 13, 6}},
		{3, 3, 3, []int{1, 1, 1}},
		{10, 3, 1, []int{10}},
	} {
		n := halvingStart(tc.budget, tc.eta, tc.rungs)
		got := halvingSizes(n, tc.eta, tc.rungs)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("budget %d eta %d rungs %d: sizes %v, want %v", tc.budget, tc.eta, tc.rungs, got, tc.want)
		}
	}
	// Iterations per rung for max_iter 15, eta 3, 3 rungs: ⌈15/9⌉ = 2, ⌈15/3⌉ = 5, 15.
	for r, want := range []int{2, 5, 15} {
		if got := rungIters(15, r, 3, 3); got != want {
			t.Errorf("rung %d: %d iterations, want %d", r, got, want)
		}
	}
}

// TestHalvingKeepsBestFraction checks that each rung holds exactly the
// best ⌊n/η⌋ configurations of the previous rung, with η times the
// iterations, and that the best of the last rung is the best overall.
func TestHalvingKeepsBestFraction(t *testing.T) {
	s := mustSpace(t, testSpace)
	res, err := Search(context.Background(), s, quadratic, Options{Strategy: Halving, Metric: "ndcg@10", Budget: 39, Seed: 3, Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	byRung := map[int][]Record{}
	for _, r := range res.Trials {
		byRung[r.Rung] = append(byRung[r.Rung], r)
	}
	for r, want := range []int{27, 9, 3} {
		if len(byRung[r]) != want {
			t.Fatalf("rung %d has %d trials, want %d", r, len(byRung[r]), want)
		}
		// max_iter 9 over 3 rungs: 1, 3, 9 iterations.
		for _, rec := range byRung[r] {
			if rec.Params.MaxIter != []int{1, 3, 9}[r] {
				t.Errorf("rung %d trial %d fitted %d iterations", r, rec.ID, rec.Params.MaxIter)
			}
		}
	}
	for r := 1; r < 3; r++ {
		ranked := Leaderboard(byRung[r-1], "ndcg@10")
		want := map[int]bool{}
		for _, rec := range ranked[:len(byRung[r])] {
			want[rec.Config] = true
		}
		for _, rec := range byRung[r] {
			if !want[rec.Config] {
				t.Errorf("rung %d holds config %d, not among the best %d of rung %d", r, rec.Config, len(byRung[r]), r-1)
			}
		}
	}
	if res.Best.Rung != 2 {
		t.Errorf("best trial %d is in rung %d; with more iterations always better it must be in the last rung", res.Best.ID, res.Best.Rung)
	}
	// The leaderboard shows each of the 27 configurations once, at the
	// highest rung it reached: 18 at rung 0, 6 at rung 1, 3 at rung 2.
	var lb bytes.Buffer
	if err := res.WriteLeaderboard(&lb, 0, []string{"rank"}); err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(lb.String()), "\n")[1:]
	perRung := map[string]int{}
	for _, row := range rows {
		perRung[strings.Fields(row)[2]]++
	}
	if len(rows) != 27 || perRung["0"] != 18 || perRung["1"] != 6 || perRung["2"] != 3 {
		t.Errorf("leaderboard has %d rows, by rung %v; want 27 rows, 18/6/3:\n%s", len(rows), perRung, lb.String())
	}
	// Configurations of later rungs keep the parameters they were drawn with.
	first := map[int]Params{}
	for _, rec := range byRung[0] {
		first[rec.Config] = rec.Params
	}
	for _, rec := range res.Trials {
		p := first[rec.Config]
		p.MaxIter = rec.Params.MaxIter
		if p != rec.Params {
			t.Errorf("trial %d changed its parameters: %s vs %s", rec.ID, rec.Params, p)
		}
	}
}

func TestMinimisedMetric(t *testing.T) {
	s := mustSpace(t, "rank: [32, 64, 100]\nreg: 10\n")
	res, err := Search(context.Background(), s, quadratic, Options{Strategy: Grid, Metric: "rmse"})
	if err != nil {
		t.Fatal(err)
	}
	// rmse = −score: the lowest rmse is the highest score, at rank 64.
	if res.Best.Params.Rank != 64 {
		t.Errorf("best %s, want rank 64 (lowest rmse)", res.Best.Params)
	}
}

// TestFailedTrialsAreRecorded: a failing trial is kept with its error and
// the search goes on; a search where all fail is an error.
func TestFailedTrialsAreRecorded(t *testing.T) {
	s := mustSpace(t, "rank: [8, 16, 32]\nreg: 10\n")
	obj := func(ctx context.Context, p Params) (Outcome, error) {
		if p.Rank == 16 {
			return Outcome{}, errors.New("factors became NaN")
		}
		return quadratic(ctx, p)
	}
	res, err := Search(context.Background(), s, obj, Options{Strategy: Grid, Metric: "ndcg@10"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Trials[1].Error != "factors became NaN" || res.Trials[1].Metrics != nil {
		t.Errorf("failed trial recorded as %+v", res.Trials[1])
	}
	if res.Best.Params.Rank != 32 {
		t.Errorf("best %s, want rank 32", res.Best.Params)
	}
	var buf bytes.Buffer
	if err := res.WriteLeaderboard(&buf, 0, []string{"rank"}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 || !strings.Contains(lines[3], "failed") {
		t.Errorf("leaderboard: failed trial must be last:\n%s", buf.String())
	}
	nan := func(ctx context.Context, p Params) (Outcome, error) {
		return Outcome{Metrics: map[string]float64{"ndcg@10": math.NaN()}, Iterations: 1, BestIter: 1}, nil
	}
	if _, err := Search(context.Background(), s, nan, Options{Strategy: Grid, Metric: "ndcg@10"}); err == nil || !strings.Contains(err.Error(), "every trial failed") {
		t.Errorf("all-NaN search: %v", err)
	}
}

// TestResume interrupts a search after some trials, resumes it from the
// journal and checks that completed trials are not fitted again and that
// the result equals an uninterrupted search's.
func TestResume(t *testing.T) {
	for _, strategy := range []Strategy{Random, Halving} {
		t.Run(string(strategy), func(t *testing.T) {
			s := mustSpace(t, testSpace)
			opts := Options{Strategy: strategy, Metric: "ndcg@10", Budget: 20, Seed: 5, Parallel: 2,
				Journal: filepath.Join(t.TempDir(), "trials.jsonl"), Identity: "data=test"}

			ref, err := Search(context.Background(), s, quadratic, Options{Strategy: strategy, Metric: "ndcg@10", Budget: 20, Seed: 5})
			if err != nil {
				t.Fatal(err)
			}

			// First run: cancel once 7 trials have completed.
			ctx, cancel := context.WithCancel(context.Background())
			var fitted atomic.Int32
			obj := func(ctx context.Context, p Params) (Outcome, error) {
				if fitted.Add(1) > 7 {
					cancel()
					return Outcome{}, ctx.Err()
				}
				return quadratic(ctx, p)
			}
			if _, err := Search(ctx, s, obj, opts); !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted search: %v, want context.Canceled", err)
			}
			cancel()

			// Second run: only the trials missing from the journal are fitted.
			var mu sync.Mutex
			refitted := map[string]int{}
			obj2 := func(ctx context.Context, p Params) (Outcome, error) {
				mu.Lock()
				refitted[p.key()]++
				mu.Unlock()
				return quadratic(ctx, p)
			}
			res, err := Search(context.Background(), s, obj2, opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Resumed != 7 {
				t.Errorf("resumed %d trials, want 7", res.Resumed)
			}
			if n := len(ref.Trials) - 7; len(refitted) != n {
				t.Errorf("fitted %d trials on resume, want %d", len(refitted), n)
			}
			for _, r := range res.Trials[:7] {
				if refitted[r.Params.key()] > 0 {
					t.Errorf("journalled trial %d fitted again", r.ID)
				}
			}
			if len(res.Trials) != len(ref.Trials) || res.Best.ID != ref.Best.ID {
				t.Errorf("resumed search: %d trials, best %d; uninterrupted: %d trials, best %d",
					len(res.Trials), res.Best.ID, len(ref.Trials), ref.Best.ID)
			}
			for i := range ref.Trials {
				a, b := ref.Trials[i], res.Trials[i]
				a.FitSeconds, b.FitSeconds = 0, 0
				if !reflect.DeepEqual(a, b) {
					t.Errorf("trial %d differs after resume: %+v vs %+v", i+1, b, a)
				}
			}

			// A third run fits nothing.
			none := func(ctx context.Context, p Params) (Outcome, error) {
				t.Errorf("trial %s fitted in a complete search", p)
				return quadratic(ctx, p)
			}
			if res, err := Search(context.Background(), s, none, opts); err != nil || res.Resumed != len(ref.Trials) {
				t.Errorf("complete search: resumed %d, err %v", res.Resumed, err)
			}

			// Another search refuses the journal.
			other := opts
			other.Seed = 6
			if _, err := Search(context.Background(), s, quadratic, other); !errors.Is(err, ErrJournalMismatch) {
				t.Errorf("other seed on the same journal: %v, want ErrJournalMismatch", err)
			}
		})
	}
}

// TestJournalTornLine: a record cut short by a crash is dropped and fitted
// again; a damaged line in the middle is an error.
func TestJournalTornLine(t *testing.T) {
	s := mustSpace(t, "rank: [8, 16, 32]\nreg: 10\n")
	path := filepath.Join(t.TempDir(), "trials.jsonl")
	opts := Options{Strategy: Grid, Metric: "ndcg@10", Journal: path}
	if _, err := Search(context.Background(), s, quadratic, opts); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n") // header, 3 records, ""
	if len(lines) != 5 {
		t.Fatalf("journal has %d lines, want header + 3 records", len(lines)-1)
	}
	torn := strings.Join(lines[:3], "") + lines[3][:20]
	if err := os.WriteFile(path, []byte(torn), 0o644); err != nil {
		t.Fatal(err)
	}
	var fitted []int
	obj := func(ctx context.Context, p Params) (Outcome, error) {
		fitted = append(fitted, p.Rank)
		return quadratic(ctx, p)
	}
	res, err := Search(context.Background(), s, obj, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fitted, []int{32}) || res.Resumed != 2 {
		t.Errorf("after a torn line: fitted ranks %v, resumed %d; want [32] and 2", fitted, res.Resumed)
	}
	after, _ := os.ReadFile(path)
	if n := strings.Count(string(after), "\n"); n != 4 || !bytes.HasSuffix(after, []byte("\n")) {
		t.Errorf("journal after repair has %d lines:\n%s", n, after)
	}
	bad := strings.Join(lines[:2], "") + "garbage\n" + strings.Join(lines[3:], "")
	os.WriteFile(path, []byte(bad), 0o644)
	if _, err := Search(context.Background(), s, quadratic, opts); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%s:3: not a trial record", path)) {
		t.Errorf("damaged journal: %v", err)
	}
}

// TestInvalidCombinationsSkipped: combinations ALS rejects (biases with
// implicit feedback) are left out of grids and redrawn in random search.
func TestInvalidCombinationsSkipped(t *testing.T) {
	s := mustSpace(t, "implicit: [false, true]\nbiases: [false, true]\nreg: 10\nrank: 64\n")
	res, err := Search(context.Background(), s, quadratic, Options{Strategy: Grid, Metric: "ndcg@10"})
	if err != nil {
		t.Fatal(err)
	}
	// 2 × 2 = 4 points, of which implicit with biases is invalid: 3 remain.
	if len(res.Trials) != 3 {
		t.Fatalf("%d trials, want 3", len(res.Trials))
	}
	for _, r := range res.Trials {
		if r.Params.Implicit && r.Params.Biases {
			t.Errorf("trial %d fits biases with implicit feedback", r.ID)
		}
	}
	res, err = Search(context.Background(), s, quadratic, Options{Strategy: Random, Metric: "ndcg@10", Budget: 10, Seed: 1})
	if err != nil || len(res.Trials) != 3 {
		t.Errorf("random search over 3 valid points: %d trials, %v", len(res.Trials), err)
	}
	bad := mustSpace(t, "implicit: true\nbiases: true\n")
	if _, err := Search(context.Background(), bad, quadratic, Options{Strategy: Grid, Metric: "ndcg@10"}); err == nil || !strings.Contains(err.Error(), "biases are for explicit ratings") {
		t.Errorf("space of invalid points only: %v", err)
	}
}

// TestRandomExtend: a random search resumed with a larger budget keeps its
// trials and fits only the new ones, which are those an uninterrupted search
// with the larger budget draws.
func TestRandomExtend(t *testing.T) {
	s := mustSpace(t, testSpace)
	journal := filepath.Join(t.TempDir(), "trials.jsonl")
	opts := Options{Strategy: Random, Metric: "ndcg@10", Budget: 8, Seed: 4, Journal: journal}
	if _, err := Search(context.Background(), s, quadratic, opts); err != nil {
		t.Fatal(err)
	}
	var fitted int
	count := func(ctx context.Context, p Params) (Outcome, error) { fitted++; return quadratic(ctx, p) }
	opts.Budget = 12
	res, err := Search(context.Background(), s, count, opts)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := Search(context.Background(), s, quadratic, Options{Strategy: Random, Metric: "ndcg@10", Budget: 12, Seed: 4})
	if fitted != 4 || res.Resumed != 8 || len(res.Trials) != 12 {
		t.Errorf("extended search: fitted %d, resumed %d, %d trials; want 4, 8, 12", fitted, res.Resumed, len(res.Trials))
	}
	for i := range ref.Trials {
		if res.Trials[i].Params != ref.Trials[i].Params {
			t.Errorf("trial %d: %s, uninterrupted search has %s", i+1, res.Trials[i].Params, ref.Trials[i].Params)
		}
	}
	// Successive halving keeps the budget in its identity: its first rung
	// depends on it.
	h := Options{Strategy: Halving, Metric: "ndcg@10", Budget: 13, Seed: 4, Journal: filepath.Join(t.TempDir(), "h.jsonl")}
	if _, err := Search(context.Background(), s, quadratic, h); err != nil {
		t.Fatal(err)
	}
	h.Budget = 20
	if _, err := Search(context.Background(), s, quadratic, h); !errors.Is(err, ErrJournalMismatch) {
		t.Errorf("halving with another budget on the same journal: %v, want ErrJournalMismatch", err)
	}
}

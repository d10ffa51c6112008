package topk

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/ratings"
)

// intModel returns a model whose factors are small integers, so that every
// float32 dot product is exact (|score| ≤ 4·rank < 2^24) and ties are
// frequent: lists can be compared exactly with a float64 brute force.
func intModel(seed uint64, users, items, rank int) *als.Model {
	rng := rand.New(rand.NewPCG(seed, 1))
	m := &als.Model{Rank: rank, UserIDs: ids("u", users), ItemIDs: ids("i", items),
		UserFactors: make([]float32, users*rank), ItemFactors: make([]float32, items*rank)}
	for i := range m.UserFactors {
		m.UserFactors[i] = float32(rng.IntN(5) - 2)
	}
	for i := range m.ItemFactors {
		m.ItemFactors[i] = float32(rng.IntN(5) - 2)
	}
	return m
}

// randModel returns a model with standard normal factors.
func randModel(seed uint64, users, items, rank int) *als.Model {
	rng := rand.New(rand.NewPCG(seed, 2))
	m := &als.Model{Rank: rank, UserIDs: ids("u", users), ItemIDs: ids("i", items),
		UserFactors: make([]float32, users*rank), ItemFactors: make([]float32, items*rank)}
	for i := range m.UserFactors {
		m.UserFactors[i] = float32(rng.NormFloat64())
	}
	for i := range m.ItemFactors {
		m.ItemFactors[i] = float32(rng.NormFloat64())
	}
	return m
}

func ids(prefix string, n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return s
}

// randExclusion excludes about frac of the items of each user, with the
// first user excluding everything and the second nothing.
func randExclusion(seed uint64, users, items int, frac float64) *Exclusion {
	rng := rand.New(rand.NewPCG(seed, 3))
	lists := make([][]int32, users)
	for u := range lists {
		for i := 0; i < items; i++ {
			if u == 0 || (u != 1 && rng.Float64() < frac) {
				lists[u] = append(lists[u], int32(i))
			}
		}
		rng.Shuffle(len(lists[u]), func(a, b int) { lists[u][a], lists[u][b] = lists[u][b], lists[u][a] })
	}
	return NewExclusionLists(lists)
}

// brute is the specification: score every item in float64, drop excluded
// items and those scoring NaN or -Inf, order by score descending then item
// ascending, keep k.
func brute(m *als.Model, u int, k int, ex *Exclusion) ([]int32, []float64) {
	type cand struct {
		item  int32
		score float64
	}
	var cs []cand
	skip := map[int32]bool{}
	for _, i := range ex.Items(u) {
		skip[i] = true
	}
	for i := range m.ItemIDs {
		if skip[int32(i)] {
			continue
		}
		var s float64
		for p := 0; p < m.Rank; p++ {
			s += float64(m.UserFactors[u*m.Rank+p]) * float64(m.ItemFactors[i*m.Rank+p])
		}
		if math.IsNaN(s) || math.IsInf(s, -1) {
			continue
		}
		cs = append(cs, cand{int32(i), s})
	}
	sort.Slice(cs, func(a, b int) bool {
		if cs[a].score != cs[b].score {
			return cs[a].score > cs[b].score
		}
		return cs[a].item < cs[b].item
	})
	cs = cs[:min(k, len(cs))]
	items := make([]int32, len(cs))
	scores := make([]float64, len(cs))
	for j, c := range cs {
		items[j], scores[j] = c.item, c.score
	}
	return items, scores
}

func collect(t *testing.T, m *als.Model, opts Options, kn *kernel) ([]int32, [][]int32, [][]float32) {
	t.Helper()
	var us []int32
	var is [][]int32
	var ss [][]float32
	err := each(context.Background(), m, opts, kn, func(u int32, items []int32, scores []float32) error {
		us = append(us, u)
		is = append(is, slices.Clone(items))
		ss = append(ss, slices.Clone(scores))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return us, is, ss
}

// TestEachExact compares every kernel with the brute force on integer
// factors, where scores are exact and ties abound: the lists must be
// identical, tie order included. Sizes are chosen to leave partial tiles,
// partial panels and a partial block (203 users = 2 blocks of 96 + 11).
func TestEachExact(t *testing.T) {
	for _, kn := range kernels {
		for _, tc := range []struct{ users, items, rank, k int }{
			{203, 77, 7, 10}, {5, 3, 1, 10}, {97, 300, 64, 20}, {30, 1, 3, 1}, {13, 50, 33, 50},
		} {
			name := fmt.Sprintf("%s/users=%d/items=%d/rank=%d/k=%d", kn.name, tc.users, tc.items, tc.rank, tc.k)
			t.Run(name, func(t *testing.T) {
				m := intModel(uint64(tc.users*tc.items+tc.rank), tc.users, tc.items, tc.rank)
				ex := randExclusion(7, tc.users, tc.items, 0.3)
				for _, e := range []*Exclusion{nil, ex} {
					us, is, ss := collect(t, m, Options{K: tc.k, Exclude: e, Threads: 3}, kn)
					if len(us) != tc.users {
						t.Fatalf("got %d lists, want %d", len(us), tc.users)
					}
					for u := range us {
						if us[u] != int32(u) {
							t.Fatalf("list %d is for user %d", u, us[u])
						}
						wi, ws := brute(m, u, tc.k, e)
						if !slices.Equal(is[u], wi) {
							t.Fatalf("user %d (exclude=%v): items %v, want %v", u, e != nil, is[u], wi)
						}
						for j := range ws {
							if float64(ss[u][j]) != ws[j] {
								t.Fatalf("user %d rank %d: score %v, want %v", u, j, ss[u][j], ws[j])
							}
						}
					}
				}
			})
		}
	}
}

// TestKernelsAgree checks the assembly kernels against the portable one on
// normal factors: scores within 1e-5 relative to the sum of |terms| (float32
// rounding of a rank-100 dot product in a different order), and the lists
// equal except where the portable scores of two swapped items are within
// that tolerance.
func TestKernelsAgree(t *testing.T) {
	if len(kernels) == 1 {
		t.Skip("only the portable kernel on this machine")
	}
	m := randModel(11, 150, 1000, 100)
	ex := randExclusion(5, 150, 1000, 0.05)
	_, gi, gs := collect(t, m, Options{K: 25, Exclude: ex}, generic)
	for _, kn := range kernels[:len(kernels)-1] {
		t.Run(kn.name, func(t *testing.T) {
			_, ki, ks := collect(t, m, Options{K: 25, Exclude: ex}, kn)
			for u := range gi {
				tol := 1e-5 * scale(m, u)
				if len(ki[u]) != len(gi[u]) {
					t.Fatalf("user %d: %d items, portable %d", u, len(ki[u]), len(gi[u]))
				}
				for j := range gi[u] {
					if math.Abs(float64(ks[u][j]-gs[u][j])) > tol {
						t.Fatalf("user %d rank %d: score %v, portable %v", u, j, ks[u][j], gs[u][j])
					}
					if ki[u][j] != gi[u][j] {
						// Allowed only for a near tie.
						if math.Abs(float64(ks[u][j]-gs[u][j])) > tol {
							t.Fatalf("user %d rank %d: item %d, portable %d", u, j, ki[u][j], gi[u][j])
						}
					}
				}
			}
		})
	}
}

// scale bounds the rounding error of user u's scores: max over items of
// Σ_p |x_up · y_ip| ≤ ‖x_u‖₁ · max|y|.
func scale(m *als.Model, u int) float64 {
	var s, my float64
	for _, v := range m.UserVec(u) {
		s += math.Abs(float64(v))
	}
	for _, v := range m.ItemFactors {
		my = max(my, math.Abs(float64(v)))
	}
	return s * my
}

// TestKernelTiles drives each kernel directly: the scores of one tile agree
// with a float64 product to float32 rounding, and the mask has bit
// i*(nr/g)+h exactly when a lane of that group exceeds thr[i].
func TestKernelTiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, kn := range kernels {
		for _, rank := range []int{1, 2, 17, 64, 129} {
			a := make([]float32, kn.mr*rank)
			b := make([]float32, kn.nr*rank)
			for i := range a {
				a[i] = float32(rng.NormFloat64())
			}
			for i := range b {
				b[i] = float32(rng.NormFloat64())
			}
			c := make([]float32, kn.mr*kn.nr)
			thr := make([]float32, kn.mr)
			for i := range thr {
				thr[i] = float32(math.Inf(-1))
			}
			all := kn.tile(a, b, c, thr, rank)
			if want := uint32(1)<<(kn.mr*kn.nr/kn.g) - 1; all != want {
				t.Fatalf("%s rank %d: mask %b with -Inf thresholds, want %b", kn.name, rank, all, want)
			}
			for i := 0; i < kn.mr; i++ {
				for j := 0; j < kn.nr; j++ {
					var want, abs float64
					for p := 0; p < rank; p++ {
						x := float64(a[p*kn.mr+i]) * float64(b[p*kn.nr+j])
						want += x
						abs += math.Abs(x)
					}
					if d := math.Abs(float64(c[i*kn.nr+j]) - want); d > 1e-6*abs+1e-30 {
						t.Fatalf("%s rank %d: c[%d][%d] = %v, want %v", kn.name, rank, i, j, c[i*kn.nr+j], want)
					}
				}
			}
			scores := slices.Clone(c)
			for trial := 0; trial < 50; trial++ {
				var want uint32
				for i := range thr {
					// Thresholds from the tile's own scores hit edges exactly.
					thr[i] = scores[i*kn.nr+rng.IntN(kn.nr)]
					if trial%7 == 0 {
						thr[i] = float32(math.Inf(1))
					}
					for h := 0; h < kn.nr/kn.g; h++ {
						for l := 0; l < kn.g; l++ {
							if scores[i*kn.nr+h*kn.g+l] > thr[i] {
								want |= 1 << (i*(kn.nr/kn.g) + h)
							}
						}
					}
				}
				clear(c)
				got := kn.tile(a, b, c, thr, rank)
				if got != want {
					t.Fatalf("%s rank %d: mask %b, want %b", kn.name, rank, got, want)
				}
				if got != 0 && !slices.Equal(c, scores) {
					t.Fatalf("%s rank %d: scores differ between calls", kn.name, rank)
				}
			}
		}
	}
}

// TestThreadsAndSubsets: lists do not depend on the number of goroutines
// or on which other users are scored with a user.
func TestThreadsAndSubsets(t *testing.T) {
	m := randModel(21, 500, 400, 16)
	ex := randExclusion(9, 500, 400, 0.1)
	_, ref, refS := collect(t, m, Options{K: 10, Exclude: ex, Threads: 1}, best())
	for _, th := range []int{2, 5, 64} {
		_, got, gotS := collect(t, m, Options{K: 10, Exclude: ex, Threads: th}, best())
		for u := range ref {
			if !slices.Equal(got[u], ref[u]) || !slices.Equal(gotS[u], refS[u]) {
				t.Fatalf("threads=%d: user %d differs", th, u)
			}
		}
	}
	sub := []int32{499, 3, 3, 250, 0}
	us, got, gotS := collect(t, m, Options{K: 10, Exclude: ex, Users: sub, Threads: 2}, best())
	if !slices.Equal(us, sub) {
		t.Fatalf("users delivered %v, want %v", us, sub)
	}
	for r, u := range sub {
		if !slices.Equal(got[r], ref[u]) || !slices.Equal(gotS[r], refS[u]) {
			t.Fatalf("subset: user %d differs", u)
		}
	}
}

// TestNaNAndInf: items scoring NaN or -Inf are never returned, +Inf ranks
// first.
func TestNaNAndInf(t *testing.T) {
	m := intModel(1, 3, 6, 2)
	copy(m.UserFactors, []float32{1, 0, 1, 0, 1, 0})
	copy(m.ItemFactors, []float32{
		float32(math.NaN()), 0, // item 0: NaN
		float32(math.Inf(-1)), 0, // item 1: -Inf
		float32(math.Inf(1)), 0, // item 2: +Inf
		2, 0, 2, 0, 1, 0}) // items 3, 4 tie at 2; item 5 at 1
	for _, kn := range kernels {
		_, is, _ := collect(t, m, Options{K: 10}, kn)
		if want := []int32{2, 3, 4, 5}; !slices.Equal(is[0], want) {
			t.Errorf("%s: got %v, want %v", kn.name, is[0], want)
		}
	}
}

func TestRecommendAndErrors(t *testing.T) {
	ctx := context.Background()
	m := intModel(2, 10, 8, 3)
	l, err := Recommend(ctx, m, Options{K: 3})
	if err != nil {
		t.Fatal(err)
	}
	for u := 0; u < 10; u++ {
		items, _ := l.List(u)
		want, _ := brute(m, u, 3, nil)
		if !slices.Equal(items, want) {
			t.Fatalf("user %d: %v, want %v", u, items, want)
		}
	}
	bad := intModel(2, 10, 8, 3)
	bad.UserFactors = bad.UserFactors[1:]
	for _, tc := range []struct {
		name string
		m    *als.Model
		opts Options
	}{
		{"k=0", m, Options{K: 0}},
		{"bad model", bad, Options{K: 1}},
		{"user out of range", m, Options{K: 1, Users: []int32{10}}},
		{"exclusion size", m, Options{K: 1, Exclude: NewExclusionLists(make([][]int32, 3))}},
	} {
		if _, err := Recommend(ctx, tc.m, tc.opts); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	// fn's error stops Each and is returned.
	stop := errors.New("stop")
	n := 0
	big := randModel(3, 1000, 50, 4)
	err = Each(ctx, big, Options{K: 2, Threads: 2}, func(int32, []int32, []float32) error {
		n++
		if n == 150 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 150 {
		t.Fatalf("err %v after %d users", err, n)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := Each(cctx, big, Options{K: 2}, func(int32, []int32, []float32) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err %v", err)
	}
}

// TestExclusionFromTable maps a table with its own dictionaries onto the
// model by id: unknown users and items are counted, duplicates collapse.
func TestExclusionFromTable(t *testing.T) {
	m := &als.Model{Rank: 1, UserIDs: []string{"a", "b", "c"}, ItemIDs: []string{"x", "y", "z"},
		UserFactors: []float32{1, 1, 1}, ItemFactors: []float32{3, 2, 1}}
	b := ratings.NewBuilder(false)
	b.Add("b", "z", 5, 0)
	b.Add("b", "x", 5, 0)
	b.Add("b", "z", 4, 0)      // duplicate pair
	b.Add("nobody", "x", 1, 0) // unknown user
	b.Add("a", "w", 1, 0)      // unknown item
	b.Add("c", "x", 1, 0)
	tab := b.Table()
	mp := MapTable(m, tab)
	if mp.UsersFound != 3 || mp.ItemsFound != 2 {
		t.Fatalf("found %d users %d items, want 3 and 2", mp.UsersFound, mp.ItemsFound)
	}
	e := NewExclusion(m, tab)
	if e.Rows != 6 || e.RowsMapped != 4 || e.UsersMapped != 2 {
		t.Fatalf("rows %d mapped %d users %d, want 6 4 2", e.Rows, e.RowsMapped, e.UsersMapped)
	}
	if got := e.Items(1); !slices.Equal(got, []int32{0, 2}) {
		t.Fatalf("user b excludes %v, want [0 2]", got)
	}
	l, err := Recommend(context.Background(), m, Options{K: 3, Exclude: e})
	if err != nil {
		t.Fatal(err)
	}
	for u, want := range [][]int32{{0, 1, 2}, {1}, {1, 2}} {
		if got, _ := l.List(u); !slices.Equal(got, want) {
			t.Errorf("user %s: %v, want %v", m.UserIDs[u], got, want)
		}
	}
}

// TestKernelName logs the kernel in use (scripts/bench-eval.sh reads it)
// and checks it is the first usable one.
func TestKernelName(t *testing.T) {
	t.Logf("kernel: %s", KernelName())
	if KernelName() != kernels[0].name {
		t.Fatalf("KernelName %q, first kernel %q", KernelName(), kernels[0].name)
	}
}

package als

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/recs-dev/recs/ratings"
)

// synthTable returns a random table of about n ratings from nu users and ni
// items drawn from a rank-3 model plus noise, with ratings in [1, 5].
// Dictionaries hold two extra ids without rows ("ghost-user", "ghost-item")
// to check that they get no factors.
func synthTable(seed uint64, nu, ni, n int) *ratings.Table {
	rng := rand.New(rand.NewPCG(seed, 7))
	b := ratings.NewBuilder(false)
	b.Add("ghost-user", "i0", 3, 0) // removed below: keeps the ids in the dictionaries
	U := make([][3]float64, nu)
	V := make([][3]float64, ni)
	for i := range U {
		for c := range U[i] {
			U[i][c] = rng.NormFloat64()
		}
	}
	for i := range V {
		for c := range V[i] {
			V[i][c] = rng.NormFloat64()
		}
	}
	seen := map[[2]int]bool{}
	for len(seen) < n {
		u, i := rng.IntN(nu), rng.IntN(ni)
		if seen[[2]int{u, i}] {
			continue
		}
		seen[[2]int{u, i}] = true
		r := 3 + 0.6*(U[u][0]*V[i][0]+U[u][1]*V[i][1]+U[u][2]*V[i][2]) + 0.3*rng.NormFloat64()
		r = math.Round(math.Max(1, math.Min(5, r)))
		b.Add(fmt.Sprintf("u%d", u), fmt.Sprintf("i%d", i), float32(r), 0)
	}
	b.Add("u0", "ghost-item", 4, 0)
	t := b.Table()
	// Drop the first and last rows: "ghost-user" and "ghost-item" stay in
	// the dictionaries without ratings.
	rows := make([]int, 0, t.Len()-2)
	for r := 1; r < t.Len()-1; r++ {
		rows = append(rows, r)
	}
	return t.Subset(rows)
}

// refALS is an independent, plain implementation of the same algorithm with
// gonum's dense solver: it starts from the same initial factors as Fit and
// rounds factors to float32 after every solve, as Spark does. Used to check
// Fit's optimised solvers.
func refALS(t *ratings.Table, p Params) (U, V [][]float64, uids, iids []string) {
	p = p.normalized()
	users, items := compactSides(t)
	k := p.Rank
	s := stride(k)
	users.initFactors(k, s, p.Seed, streamUsers, false)
	items.initFactors(k, s, p.Seed, streamItems, false)
	get := func(sd *side) [][]float64 {
		out := make([][]float64, sd.n())
		for e := range out {
			out[e] = make([]float64, k)
			for c := range out[e] {
				out[e][c] = float64(sd.fac[e*s+c])
			}
		}
		return out
	}
	U, V = get(users), get(items)
	users.setReg(p, items.n())
	items.setReg(p, users.n())
	solve := func(dst *side, Y [][]float64) [][]float64 {
		out := make([][]float64, dst.n())
		var yty *mat.Dense
		if p.Implicit {
			yty = mat.NewDense(k, k, nil)
			for _, y := range Y {
				v := mat.NewVecDense(k, y)
				yty.RankOne(yty, 1, v, v)
			}
		}
		for e := range out {
			A := mat.NewDense(k, k, nil)
			if yty != nil {
				A.Copy(yty)
			}
			b := mat.NewVecDense(k, nil)
			for q := dst.indptr[e]; q < dst.indptr[e+1]; q++ {
				y := mat.NewVecDense(k, Y[dst.cols[q]])
				r := float64(dst.vals[q])
				if p.Implicit {
					c1 := p.Alpha * math.Abs(r)
					A.RankOne(A, c1, y, y)
					if r > 0 {
						b.AddScaledVec(b, 1+c1, y)
					}
				} else {
					A.RankOne(A, 1, y, y)
					b.AddScaledVec(b, r, y)
				}
			}
			for i := 0; i < k; i++ {
				A.Set(i, i, A.At(i, i)+dst.reg[e])
			}
			var x mat.VecDense
			if err := x.SolveVec(A, b); err != nil {
				panic(err)
			}
			out[e] = make([]float64, k)
			for i := range out[e] {
				out[e][i] = float64(float32(x.AtVec(i)))
			}
		}
		return out
	}
	for it := 0; it < p.MaxIter; it++ {
		V = solve(items, U)
		U = solve(users, V)
	}
	return U, V, users.ids, items.ids
}

func maxDiff(m *Model, U, V [][]float64) float64 {
	var d float64
	for u := range U {
		for c, v := range U[u] {
			d = math.Max(d, math.Abs(float64(m.UserVec(u)[c])-v))
		}
	}
	for i := range V {
		for c, v := range V[i] {
			d = math.Max(d, math.Abs(float64(m.ItemVec(i)[c])-v))
		}
	}
	return d
}

// TestFitMatchesReference compares Fit with refALS (dense gonum solves of
// the same equations). The tolerance covers float64 rounding differences
// amplified over a few iterations and float32 storage: factors are O(1).
func TestFitMatchesReference(t *testing.T) {
	tab := synthTable(1, 60, 40, 900)
	for _, tc := range []struct {
		name string
		p    Params
	}{
		{"explicit", Params{Rank: 5, MaxIter: 4, Reg: 0.1, Seed: 3}},
		{"explicit-rank-17", Params{Rank: 17, MaxIter: 3, Reg: 0.2, Seed: 4}},
		{"implicit", Params{Rank: 6, MaxIter: 3, Reg: 0.05, Implicit: true, Alpha: 2, Seed: 5}},
		{"implicit-plain", Params{Rank: 8, MaxIter: 3, Reg: 3, Implicit: true, Alpha: 1, RegMode: RegPlain, Seed: 6}},
	} {
		for _, kern := range kernelSets() {
			t.Run(tc.name+"/"+kern.name, func(t *testing.T) {
				m, err := Fit(context.Background(), tab, tc.p, withKernels(kern))
				if err != nil {
					t.Fatal(err)
				}
				U, V, uids, iids := refALS(tab, tc.p)
				if fmt.Sprint(uids) != fmt.Sprint(m.UserIDs) || fmt.Sprint(iids) != fmt.Sprint(m.ItemIDs) {
					t.Fatalf("ids differ from the reference")
				}
				if d := maxDiff(m, U, V); d > 2e-4 {
					t.Errorf("max |factor − reference| = %g, want ≤ 2e-4", d)
				}
			})
		}
	}
}

// TestFitIDs checks that only users and items with ratings get factors.
func TestFitIDs(t *testing.T) {
	tab := synthTable(2, 30, 20, 300)
	m, err := Fit(context.Background(), tab, Params{Rank: 4, MaxIter: 1, Reg: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range m.UserIDs {
		if id == "ghost-user" {
			t.Error("ghost-user has no ratings but got factors")
		}
	}
	for _, id := range m.ItemIDs {
		if id == "ghost-item" {
			t.Error("ghost-item has no ratings but got factors")
		}
	}
	if len(m.UserIDs) != 30 || len(m.ItemIDs) != 20 {
		t.Errorf("model has %d users, %d items; the data has 30 and 20 with ratings", len(m.UserIDs), len(m.ItemIDs))
	}
}

// TestDeterministicAcrossThreads: the same seed gives bit-identical factors
// for any thread count, for every solver, within each kernel tier.
func TestDeterministicAcrossThreads(t *testing.T) {
	tab := synthTable(3, 400, 150, 9000)
	for _, p := range []Params{
		{Rank: 12, MaxIter: 3, Reg: 0.1, Seed: 9},
		{Rank: 12, MaxIter: 3, Reg: 0.1, Seed: 9, Biases: true},
		{Rank: 10, MaxIter: 3, Reg: 0.1, Seed: 9, Implicit: true, Alpha: 3},
		{Rank: 10, MaxIter: 3, Reg: 0.1, Seed: 9, Implicit: true, Alpha: 3, Solver: SolverCG},
		// A stride above 64 (rank 70: s = 80), where the AVX-512 CG
		// passes take their separate dot and axpy path.
		{Rank: 70, MaxIter: 2, Reg: 0.5, Seed: 9, Implicit: true, Alpha: 3, Solver: SolverCG},
		{Rank: 6, MaxIter: 2, Reg: 0.1, Seed: 9, Nonnegative: true},
	} {
		for _, kern := range kernelSets() {
			var ref *Model
			for _, th := range []int{1, 2, 3, 8} {
				p.Threads = th
				m, err := Fit(context.Background(), tab, p, withKernels(kern))
				if err != nil {
					t.Fatal(err)
				}
				if ref == nil {
					ref = m
					continue
				}
				for i := range m.UserFactors {
					if math.Float32bits(m.UserFactors[i]) != math.Float32bits(ref.UserFactors[i]) {
						t.Fatalf("%s %+v: threads %d: user factor %d = %v, threads 1 gave %v", kern.name, p, th, i, m.UserFactors[i], ref.UserFactors[i])
					}
				}
				for i := range m.ItemFactors {
					if math.Float32bits(m.ItemFactors[i]) != math.Float32bits(ref.ItemFactors[i]) {
						t.Fatalf("%s %+v: threads %d: item factor %d differs", kern.name, p, th, i)
					}
				}
				if m.ID != ref.ID {
					t.Errorf("model id %s differs from %s", m.ID, ref.ID)
				}
			}
		}
	}
}

// TestLossDecreases: every ALS half-step minimises the objective exactly
// in its block of variables, so the loss cannot increase between
// iterations (up to rounding).
func TestLossDecreases(t *testing.T) {
	tab := synthTable(4, 200, 100, 4000)
	for _, p := range []Params{
		{Rank: 8, MaxIter: 8, Reg: 0.1, Seed: 1},
		{Rank: 8, MaxIter: 8, Reg: 0.1, Seed: 1, Biases: true},
		{Rank: 8, MaxIter: 8, Reg: 0.1, Seed: 1, Implicit: true, Alpha: 2},
		{Rank: 5, MaxIter: 5, Reg: 0.1, Seed: 1, Nonnegative: true},
	} {
		var hist []Iteration
		_, err := Fit(context.Background(), tab, p, WithCallback(func(it Iteration) error {
			hist = append(hist, it)
			return nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != p.MaxIter {
			t.Fatalf("%d callbacks, want %d", len(hist), p.MaxIter)
		}
		for i := 1; i < len(hist); i++ {
			if hist[i].Loss > hist[i-1].Loss*(1+1e-6) {
				t.Errorf("%+v: loss rose from %g to %g at iteration %d", p, hist[i-1].Loss, hist[i].Loss, i+1)
			}
		}
	}
}

// TestLossMatchesDirect compares the loss Fit derives from the normal
// equations with the objective computed directly from the final model.
func TestLossMatchesDirect(t *testing.T) {
	tab := synthTable(5, 100, 60, 2000)
	for _, p := range []Params{
		{Rank: 6, MaxIter: 3, Reg: 0.07, Seed: 2},
		{Rank: 6, MaxIter: 3, Reg: 0.07, Seed: 2, Biases: true},
		{Rank: 6, MaxIter: 3, Reg: 0.07, Seed: 2, Nonnegative: true},
	} {
		m, err := Fit(context.Background(), tab, p)
		if err != nil {
			t.Fatal(err)
		}
		var sse float64
		nu := map[int]int{}
		ni := map[int]int{}
		for r := 0; r < tab.Len(); r++ {
			pred, _ := m.Predict(tab.UserIDs[tab.Users[r]], tab.ItemIDs[tab.Items[r]])
			d := float64(tab.Ratings[r]) - float64(pred)
			sse += d * d
			u, _ := m.UserIndex(tab.UserIDs[tab.Users[r]])
			i, _ := m.ItemIndex(tab.ItemIDs[tab.Items[r]])
			nu[u]++
			ni[i]++
		}
		reg := 0.0
		norm := func(v []float32) float64 {
			var s float64
			for _, x := range v[:p.Rank] {
				s += float64(x) * float64(x)
			}
			return s
		}
		for u, n := range nu {
			x := norm(m.UserVec(u))
			if p.Biases {
				b := float64(m.UserVec(u)[p.Rank]) - mean(tab)
				x += b * b
			}
			reg += p.Reg * float64(n) * x
		}
		for i, n := range ni {
			x := norm(m.ItemVec(i))
			if p.Biases {
				b := float64(m.ItemVec(i)[p.Rank+1])
				x += b * b
			}
			reg += p.Reg * float64(n) * x
		}
		want := sse + reg
		got := m.History[len(m.History)-1].Loss
		if math.Abs(got-want) > 1e-4*want {
			t.Errorf("%+v: loss %g, direct objective %g", p, got, want)
		}
		rmse := math.Sqrt(sse / float64(tab.Len()))
		if got := m.History[len(m.History)-1].TrainRMSE; math.Abs(got-rmse) > 1e-4 {
			t.Errorf("train RMSE %g, direct %g", got, rmse)
		}
	}
}

func mean(t *ratings.Table) float64 {
	var s float64
	for _, v := range t.Ratings {
		s += float64(v)
	}
	return s / float64(t.Len())
}

// TestSingularError: with λ = 0 an item with one rating cannot determine 4
// factors; Fit must name the iteration and the item rather than write NaN.
func TestSingularError(t *testing.T) {
	b := ratings.NewBuilder(false)
	for u := 0; u < 6; u++ {
		for i := 0; i < 6; i++ {
			b.Add(fmt.Sprint("u", u), fmt.Sprint("i", i), float32(1+(u*i)%5), 0)
		}
	}
	b.Add("u0", "lonely", 5, 0)
	_, err := Fit(context.Background(), b.Table(), Params{Rank: 4, MaxIter: 2, Reg: 0, Seed: 1})
	var se *SolveError
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want a *SolveError", err)
	}
	if se.Iter != 1 || se.Side != "item" || se.ID != "lonely" {
		t.Errorf("error names iteration %d, %s %q; want iteration 1, item \"lonely\": %v", se.Iter, se.Side, se.ID, err)
	}
}

// TestCancel: a cancelled context stops the fit with its error.
func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Fit(ctx, synthTable(6, 50, 30, 500), Params{Rank: 4, MaxIter: 3, Reg: 0.1})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

// TestCGApproachesCholesky: many CG steps solve each system exactly, so
// the CG fit converges to the Cholesky fit (float32 CG: loose tolerance).
func TestCGApproachesCholesky(t *testing.T) {
	tab := synthTable(7, 100, 60, 2000)
	p := Params{Rank: 6, MaxIter: 3, Reg: 0.1, Implicit: true, Alpha: 2, Seed: 4}
	exact, err := Fit(context.Background(), tab, p)
	if err != nil {
		t.Fatal(err)
	}
	p.Solver, p.CGSteps = SolverCG, 30
	cg, err := Fit(context.Background(), tab, p)
	if err != nil {
		t.Fatal(err)
	}
	var d float64
	for i := range exact.UserFactors {
		d = math.Max(d, math.Abs(float64(exact.UserFactors[i]-cg.UserFactors[i])))
	}
	if d > 1e-3 {
		t.Errorf("CG-30 factors differ from Cholesky by %g, want ≤ 1e-3", d)
	}
}

// TestNonnegative: a nonnegative fit runs and all its factors are ≥ 0
// (TestNNLSKKT checks the per-user solver itself).
func TestNonnegative(t *testing.T) {
	m, err := Fit(context.Background(), synthTable(8, 80, 50, 1500), Params{Rank: 5, MaxIter: 4, Reg: 0.1, Nonnegative: true, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range [][]float32{m.UserFactors, m.ItemFactors} {
		for i, v := range f {
			if v < 0 {
				t.Fatalf("factor %d = %v < 0", i, v)
			}
		}
	}
}

func kernelSets() []*kernels {
	var ks []*kernels
	for _, n := range KernelTiers() {
		ks = append(ks, tiers[n])
	}
	return ks
}

// TestHugeRatingError: a rating near float32's limit (3e38) gives item
// "huge" a factor of about 3e38; user "u0", who rated it, then has normal
// equations whose entries span 77 orders of magnitude, singular to working
// precision. Fit must stop with an error naming iteration 1 and the user.
func TestHugeRatingError(t *testing.T) {
	b := ratings.NewBuilder(false)
	for u := 0; u < 5; u++ {
		for i := 0; i < 5; i++ {
			b.Add(fmt.Sprint("u", u), fmt.Sprint("i", i), float32(1+(u+i)%5), 0)
		}
	}
	b.Add("u0", "huge", 3e38, 0)
	m, err := Fit(context.Background(), b.Table(), Params{Rank: 2, MaxIter: 2, Reg: 1e-3, Seed: 1})
	var se *SolveError
	if !errors.As(err, &se) || m != nil {
		t.Fatalf("got %v, %v; want a *SolveError and no model", m, err)
	}
	if se.Iter != 1 || se.Side != "user" || se.ID != "u0" || !strings.Contains(se.Reason, "singular") {
		t.Errorf("got %v; want iteration 1, user \"u0\", singular", err)
	}
}

// TestStoreRejectsNonFinite: a solution that is not finite in float32 is
// an error naming the iteration, side and id, and nothing is written.
func TestStoreRejectsNonFinite(t *testing.T) {
	sd := &side{name: "item", ids: []string{"a", "b"}, fac: make([]float32, 32), reg: []float64{1, 1},
		loss: make([]float64, 2), regl: make([]float64, 2)}
	pr := &problem{p: Params{Rank: 2}, k: 2, s: 16}
	for _, bad := range []float64{math.NaN(), math.Inf(-1), 1e39} {
		err := pr.store(7, sd, 1, func(i int) float64 { return []float64{1, bad}[i] }, func(int) float64 { return 0 }, nil, 0)
		var se *SolveError
		if !errors.As(err, &se) || se.Iter != 7 || se.Side != "item" || se.ID != "b" {
			t.Errorf("x = %v: got %v, want a SolveError for iteration 7, item \"b\"", bad, err)
		}
		if sd.fac[16] != 0 {
			t.Errorf("x = %v: factors written despite the error", bad)
		}
	}
}

// TestProgress: the progress callback counts every user and item of each
// iteration exactly once.
func TestProgress(t *testing.T) {
	tab := synthTable(12, 300, 120, 5000)
	var mu sync.Mutex
	last := map[int]int{}
	var total int
	_, err := Fit(context.Background(), tab, Params{Rank: 4, MaxIter: 3, Reg: 0.1, Threads: 3},
		WithProgress(func(iter, done, tot int) {
			mu.Lock()
			defer mu.Unlock()
			total = tot
			last[iter] = max(last[iter], done)
		}))
	if err != nil {
		t.Fatal(err)
	}
	if total != 300+120 {
		t.Fatalf("total %d, want 420 (300 users + 120 items)", total)
	}
	for it := 1; it <= 3; it++ {
		if last[it] != total {
			t.Errorf("iteration %d: progress reached %d of %d", it, last[it], total)
		}
	}
}

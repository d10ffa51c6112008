package als

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestNNLSKKT: on random positive definite problems the solution satisfies
// the Karush-Kuhn-Tucker conditions of min ½xᵀAx − bᵀx, x ≥ 0: x ≥ 0, the
// gradient Ax − b is 0 where x > 0 and ≥ 0 where x = 0 (to 1e-9 relative),
// and it equals the best of all 2^k sign patterns solved exactly (k ≤ 6:
// the brute force is independent of the active-set logic).
func TestNNLSKKT(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 200; trial++ {
		k := 1 + rng.IntN(6)
		g := make([]float64, 2*k*k)
		for i := range g {
			g[i] = rng.NormFloat64()
		}
		a := make([]float64, k*k)
		for i := 0; i < k; i++ {
			for j := 0; j < k; j++ {
				for r := 0; r < 2*k; r++ {
					a[i*k+j] += g[r*k+i] * g[r*k+j]
				}
			}
			a[i*k+i] += 0.1
		}
		b := make([]float64, k)
		for i := range b {
			b[i] = rng.NormFloat64() * 3
		}
		x := make([]float64, k)
		if err := newNNLS(k).solve(a, b, x); err != nil {
			t.Fatal(err)
		}
		obj := func(x []float64) float64 {
			var v float64
			for i := 0; i < k; i++ {
				for j := 0; j < k; j++ {
					v += 0.5 * x[i] * a[i*k+j] * x[j]
				}
				v -= b[i] * x[i]
			}
			return v
		}
		for i := 0; i < k; i++ {
			grad := -b[i]
			for j := 0; j < k; j++ {
				grad += a[i*k+j] * x[j]
			}
			tol := 1e-9 * (1 + math.Abs(b[i]))
			if x[i] < 0 || (x[i] > 0 && math.Abs(grad) > tol) || (x[i] == 0 && grad < -tol) {
				t.Fatalf("trial %d: KKT violated at %d: x %v, gradient %v", trial, i, x[i], grad)
			}
		}
		// Brute force: for every free set F solve A_FF z = b_F; keep the
		// feasible z with the least objective.
		best := math.Inf(1)
		for mask := 0; mask < 1<<k; mask++ {
			nw := newNNLS(k)
			for i := 0; i < k; i++ {
				nw.free[i] = mask&(1<<i) != 0
			}
			if nw.solveFree(a, b) != nil {
				continue
			}
			feasible := true
			for _, v := range nw.z {
				if v < 0 {
					feasible = false
				}
			}
			if feasible {
				best = math.Min(best, obj(nw.z))
			}
		}
		if got := obj(x); math.Abs(got-best) > 1e-9*(1+math.Abs(best)) {
			t.Fatalf("trial %d: objective %v, brute force %v", trial, got, best)
		}
	}
}

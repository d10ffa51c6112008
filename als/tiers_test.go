package als

import (
	"context"
	"math"
	"testing"

	"github.com/recs-dev/recs/synth"
)

// TestTiersSameMetrics fits the same MovieLens-shaped data (synth's
// ml-100k preset: 943 users, 1,682 items, 100,000 ratings) with every tier
// this CPU supports and compares the held-out metrics with those of the
// gonum reference tier. The tiers differ only in the order of additions
// and in fused multiply-adds, so the factors drift apart in the last bits
// over the iterations; the bound of als/doc.go is that the metrics agree
// within 1e-4 (absolute, for metrics of order 1).
func TestTiersSameMetrics(t *testing.T) {
	tiersHere := KernelTiers()
	if len(tiersHere) == 1 {
		// Only the reference runs here; nothing to compare it with. The
		// assembly tiers' own tests (TestTierRegistered_*) fail when the
		// CPU has their instructions but the tier is missing.
		t.Skip("only the gonum tier is supported by this CPU")
	}
	cfg, err := synth.PresetConfig("ml-100k")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Seed = 7
	all, err := synth.Generate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	explicitTrain, explicitTest := randomSplit(all, 42)
	implicitTrain, implicitTest := stratifiedByItem(all, 42)
	for _, tc := range []struct {
		name string
		p    Params
	}{
		{"explicit", Params{Rank: 10, MaxIter: 10, Reg: 0.1, Seed: 42}},
		{"explicit-biases-rank-20", Params{Rank: 20, MaxIter: 8, Reg: 0.15, Seed: 42, Biases: true}},
		{"implicit-cholesky", Params{Rank: 32, MaxIter: 8, Reg: 50, Implicit: true, Alpha: 2, RegMode: RegPlain, Seed: 42}},
		{"implicit-cg", Params{Rank: 64, MaxIter: 8, Reg: 50, Implicit: true, Alpha: 2, RegMode: RegPlain, Seed: 42, Solver: SolverCG}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			metrics := func(kern *kernels) []float64 {
				if tc.p.Implicit {
					m, err := Fit(context.Background(), implicitTrain, tc.p, withKernels(kern))
					if err != nil {
						t.Fatal(err)
					}
					ndcg, prec := rankingMetrics(m, implicitTrain, implicitTest, 10)
					return []float64{ndcg, prec}
				}
				m, err := Fit(context.Background(), explicitTrain, tc.p, withKernels(kern))
				if err != nil {
					t.Fatal(err)
				}
				return []float64{testRMSE(m, explicitTest), m.History[len(m.History)-1].TrainRMSE}
			}
			ref := metrics(&gonumKernels)
			for _, name := range tiersHere[:len(tiersHere)-1] {
				got := metrics(tiers[name])
				for i := range ref {
					if d := math.Abs(got[i] - ref[i]); d > 1e-4 {
						t.Errorf("%s: metric %d = %.6f, gonum %.6f: differ by %.2g > 1e-4", name, i, got[i], ref[i], d)
					}
				}
				t.Logf("%s: %.6f, gonum %.6f", name, got, ref)
			}
		})
	}
}

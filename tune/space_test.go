package tune

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/recs-dev/recs/internal/errs"
)

func TestParseSpace(t *testing.T) {
	src := `
implicit: true
rank: [32, 64]
reg: {min: 1, max: 100, log: true, steps: 3}
alpha: {min: 0.5, max: 2.5, steps: 3}
solver: cg
`
	s, err := ParseSpace([]byte(src), "space.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Dimensions come back in canonical order whatever the file's order.
	var names []string
	for _, d := range s.Dims {
		names = append(names, d.Name)
	}
	if want := []string{"implicit", "rank", "reg", "alpha", "solver"}; !reflect.DeepEqual(names, want) {
		t.Errorf("dims %v, want %v", names, want)
	}
	if want := []string{"rank", "reg", "alpha"}; !reflect.DeepEqual(s.Varying(), want) {
		t.Errorf("varying %v, want %v", s.Varying(), want)
	}
	if s.Base != DefaultParams() {
		t.Errorf("base %v, want the defaults", s.Base)
	}
	// reg log-spaced over [1, 100] in 3 steps: 1, 10, 100 (exactly, after
	// rounding to 6 significant digits); alpha linear: 0.5, 1.5, 2.5.
	reg, _ := s.Dims[2].points()
	if want := []any{1.0, 10.0, 100.0}; !reflect.DeepEqual(reg, want) {
		t.Errorf("reg grid %v, want %v", reg, want)
	}
	alpha, _ := s.Dims[3].points()
	if want := []any{0.5, 1.5, 2.5}; !reflect.DeepEqual(alpha, want) {
		t.Errorf("alpha grid %v, want %v", alpha, want)
	}
}

func TestParseSpaceErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"rnak: 10\n", `space.yaml:1: unknown parameter "rnak"`},
		{"rank: 10.5\n", `space.yaml:1: rank: "10.5" is not an integer`},
		{"rank: [10, 10]\n", `space.yaml:1: rank: value 10 listed twice`},
		{"rank: 0\n", `space.yaml:1: rank: must be ≥ 1, not 0`},
		{"implicit: [true]\nreg: {min: 0, max: 1, log: true}\n", `space.yaml:2: reg: a log range needs min > 0`},
		{"reg: {min: 2, max: 1}\n", `space.yaml:1: reg: range min 2, max 1`},
		{"reg: {min: 1}\n", `space.yaml:1: reg: a range needs min and max`},
		{"reg: {min: 1, max: 2, stpes: 3}\n", `unknown range key "stpes"`},
		{"implicit: {min: 0, max: 1}\n", `a range needs a numeric parameter`},
		{"solver: qr\n", `solver: must be one of cholesky, cg, not "qr"`},
		{"reg: -1\n", `reg: must be a finite number ≥ 0`},
		{"rank: []\n", `rank: empty list`},
		{"", `empty search space`},
		{"- rank\n", `a search space is a mapping`},
		{"rank: 8\nrank: 16\n", `given twice`},
	} {
		_, err := ParseSpace([]byte(tc.src), "space.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to contain %q", tc.src, err, tc.want)
			continue
		}
		if !errs.IsInput(err) {
			t.Errorf("%q: error %v is not an input error", tc.src, err)
		}
	}
}

// TestGridEnumeratesExactly checks that the grid holds every combination
// once, in canonical order with the last parameter varying fastest.
func TestGridEnumeratesExactly(t *testing.T) {
	s, err := ParseSpace([]byte(`
rank: [8, 16, 32]
reg: {min: 0.1, max: 10, log: true, steps: 3}
implicit: [false, true]
max_iter: {min: 5, max: 6, steps: 2}
`), "space.yaml")
	if err != nil {
		t.Fatal(err)
	}
	grid, err := s.Grid()
	if err != nil {
		t.Fatal(err)
	}
	n, _ := s.GridSize()
	// 2 (implicit) × 3 (rank) × 3 (reg) × 2 (max_iter) = 36.
	if len(grid) != 36 || n != 36 {
		t.Fatalf("grid has %d points (size %d), want 36", len(grid), n)
	}
	seen := map[string]bool{}
	for _, p := range grid {
		if seen[p.key()] {
			t.Errorf("point %s twice", p)
		}
		seen[p.key()] = true
	}
	for _, imp := range []bool{false, true} {
		for _, rank := range []int{8, 16, 32} {
			for _, reg := range []float64{0.1, 1, 10} {
				for _, it := range []int{5, 6} {
					p := DefaultParams()
					p.Implicit, p.Rank, p.Reg, p.MaxIter = imp, rank, reg, it
					if !seen[p.key()] {
						t.Errorf("point %s missing", p)
					}
				}
			}
		}
	}
	// Order: implicit, rank, reg, alpha, max_iter — max_iter fastest.
	first := []Params{grid[0], grid[1], grid[2]}
	if first[0].MaxIter != 5 || first[1].MaxIter != 6 || first[2].Reg != 1 || grid[35].Implicit != true || grid[0].Implicit {
		t.Errorf("grid order: %v", first)
	}
	// A range without steps cannot be enumerated.
	s2, _ := ParseSpace([]byte("reg: {min: 1, max: 2}\n"), "x.yaml")
	if _, err := s2.Grid(); err == nil || !strings.Contains(err.Error(), "needs steps") {
		t.Errorf("grid over a stepless range: %v", err)
	}
}

func TestSampleWithinRanges(t *testing.T) {
	s, err := ParseSpace([]byte(`
rank: {min: 8, max: 128, log: true}
reg: {min: 0.01, max: 100, log: true}
alpha: {min: 1, max: 2}
solver: [cg, cholesky]
`), "space.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var lowReg int
	solvers := map[string]int{}
	for i := 0; i < 4000; i++ {
		p := s.Sample(rng)
		if p.Rank < 8 || p.Rank > 128 || p.Reg < 0.01 || p.Reg > 100 || p.Alpha < 1 || p.Alpha > 2 {
			t.Fatalf("sample %s outside the space", p)
		}
		if p.Reg != roundSig(p.Reg, 3) {
			t.Fatalf("reg %v not rounded to 3 significant digits", p.Reg)
		}
		if p.Reg < 1 {
			lowReg++
		}
		solvers[p.Solver]++
	}
	// Log-uniform over [0.01, 100]: P(reg < 1) = 2/4 = 0.5. With 4000 draws
	// the standard deviation of the count is √(4000·0.25) ≈ 32; allow 5σ.
	if math.Abs(float64(lowReg)-2000) > 160 {
		t.Errorf("%d of 4000 reg draws below 1, want ≈ 2000 (log-uniform)", lowReg)
	}
	if math.Abs(float64(solvers["cg"])-2000) > 160 {
		t.Errorf("solver draws %v, want ≈ 2000 each", solvers)
	}
}

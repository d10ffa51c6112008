package als

import (
	"fmt"
	"math"
	"runtime"
)

// ColdStart says what predictions for users or items without factors
// become, as Spark's coldStartStrategy: "nan" (a NaN prediction) or "drop"
// (the row is left out of the evaluation).
type ColdStart string

// Cold-start strategies (Spark's names).
const (
	ColdStartNaN  ColdStart = "nan"
	ColdStartDrop ColdStart = "drop"
)

// Solver chooses how each per-user (per-item) normal equation is solved.
type Solver string

const (
	// SolverCholesky forms the k×k normal equations in float64 and solves
	// them exactly by Cholesky factorisation, as Spark does. Cost per user
	// with n ratings: n·k² for the Gram matrix plus k³/6 for the factor.
	SolverCholesky Solver = "cholesky"
	// SolverCG takes CGSteps conjugate-gradient steps in float32 from the
	// previous factors, as benfred/implicit does, never forming the user's
	// k×k matrix: cost per user O(CGSteps·(n·k + k²)). The result is an
	// approximation of the exact solution that improves every iteration.
	SolverCG Solver = "cg"
)

// RegMode chooses how the regularisation weight of each user (item) is
// derived from Params.Reg (λ).
type RegMode string

const (
	// RegSpark is Spark's ALS-WR weighting: λ·n_u, with n_u the number of
	// ratings of the user (in implicit mode, of ratings > 0, as Spark
	// counts). This is the default and what Spark compatibility needs.
	RegSpark RegMode = "spark"
	// RegPlain is the unweighted λ of benfred/implicit and of the original
	// Hu/Koren/Volinsky paper: every user and item gets λ·I.
	RegPlain RegMode = "plain"
	// RegFrequency is the frequency-scaled regularisation of Rendle,
	// Krichene, Zhang and Koren (2022), "Revisiting the Performance of iALS
	// on Item Recommendation Benchmarks", eq. 6, for implicit feedback:
	// λ·(n_u + α₀·N)^ν, with N the number of items (users, when solving
	// items), ν = Params.RegExponent and α₀ = 1/(1+α) the weight of an
	// unobserved pair relative to an observed one in the Hu/Koren/Volinsky
	// loss (confidence 1 against 1+α). ν = 0 gives RegPlain.
	RegFrequency RegMode = "frequency"
)

// Params are the settings of a fit. The names and defaults follow Spark
// MLlib's ALS (rank 10, maxIter 10, regParam 0.1, implicitPrefs false,
// alpha 1.0, nonnegative false, coldStartStrategy "nan"); Default returns
// them. The remaining fields are recs's own and are off (or Spark's
// behaviour) by default.
type Params struct {
	Rank        int       `json:"rank"`          // factors per user and item (> 0)
	MaxIter     int       `json:"maxIter"`       // full iterations: items then users (≥ 0)
	Reg         float64   `json:"regParam"`      // λ ≥ 0, weighted per RegMode
	Implicit    bool      `json:"implicitPrefs"` // Hu/Koren/Volinsky implicit feedback
	Alpha       float64   `json:"alpha"`         // implicit confidence c = 1 + α·|r| (≥ 0)
	Nonnegative bool      `json:"nonnegative"`   // constrain factors to ≥ 0 (NNLS per user)
	Seed        int64     `json:"seed"`          // initial factors; same seed, same model
	ColdStart   ColdStart `json:"coldStartStrategy"`

	// Threads is the number of goroutines solving users (items) in
	// parallel; 0 means runtime.GOMAXPROCS(0). The factors do not depend on
	// it: work is cut into the same pieces whatever the thread count.
	Threads int `json:"-"`

	Solver  Solver `json:"solver"`  // "" means SolverCholesky
	CGSteps int    `json:"cgSteps"` // conjugate-gradient steps per solve (SolverCG); 0 means 3

	// Biases (explicit feedback only) learns a global mean μ (the mean
	// training rating, fixed) and a bias per user and per item, predicting
	// μ + b_u + b_i + x_u·y_i. Each half-iteration solves [x_u, b_u] jointly
	// with the item rows augmented by a constant 1, regularised like the
	// factors. The saved model folds the biases into two extra factor
	// columns (user [x_u, b_u+μ, 1], item [y_i, 1, b_i]), so every consumer,
	// Spark included, scores it with a plain dot product; its rank is
	// Rank+2. Off by default (Spark has no biases).
	Biases bool `json:"biases,omitempty"`

	RegMode     RegMode `json:"regMode,omitempty"`     // "" means RegSpark
	RegExponent float64 `json:"regExponent,omitempty"` // ν of RegFrequency, in [0, 1]; 0 with RegFrequency means 1
}

// Default returns Spark's defaults: rank 10, 10 iterations, λ 0.1, explicit,
// α 1, no constraint, cold-start "nan", Cholesky, 3 CG steps.
func Default() Params {
	return Params{Rank: 10, MaxIter: 10, Reg: 0.1, Alpha: 1.0, ColdStart: ColdStartNaN,
		Solver: SolverCholesky, CGSteps: 3, RegMode: RegSpark}
}

// normalized returns p with empty fields replaced by their defaults.
func (p Params) normalized() Params {
	if p.ColdStart == "" {
		p.ColdStart = ColdStartNaN
	}
	if p.Solver == "" {
		p.Solver = SolverCholesky
	}
	if p.CGSteps == 0 {
		p.CGSteps = 3
	}
	if p.RegMode == "" {
		p.RegMode = RegSpark
	}
	if p.RegMode == RegFrequency && p.RegExponent == 0 {
		p.RegExponent = 1
	}
	return p
}

// Validate reports the first setting that is out of range or that
// contradicts another.
func (p Params) Validate() error {
	p = p.normalized()
	bad := func(f string, a ...any) error { return fmt.Errorf("als: "+f, a...) }
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case p.Rank < 1:
		return bad("rank must be at least 1, not %d", p.Rank)
	case p.Rank > maxRank:
		return bad("rank %d is above the supported maximum %d", p.Rank, maxRank)
	case p.MaxIter < 0:
		return bad("maxIter must be at least 0, not %d", p.MaxIter)
	case !finite(p.Reg) || p.Reg < 0:
		return bad("regParam must be a finite number ≥ 0, not %v", p.Reg)
	case !finite(p.Alpha) || p.Alpha < 0:
		return bad("alpha must be a finite number ≥ 0, not %v", p.Alpha)
	case p.Threads < 0:
		return bad("threads must be ≥ 0 (0: all cores), not %d", p.Threads)
	case p.CGSteps < 1:
		return bad("cgSteps must be at least 1, not %d", p.CGSteps)
	case !finite(p.RegExponent) || p.RegExponent < 0 || p.RegExponent > 1:
		return bad("regExponent must be in [0, 1], not %v", p.RegExponent)
	}
	switch p.ColdStart {
	case ColdStartNaN, ColdStartDrop:
	default:
		return bad("coldStartStrategy must be nan or drop, not %q", p.ColdStart)
	}
	switch p.Solver {
	case SolverCholesky, SolverCG:
	default:
		return bad("solver must be cholesky or cg, not %q", p.Solver)
	}
	switch p.RegMode {
	case RegSpark, RegPlain:
	case RegFrequency:
		if !p.Implicit {
			return bad("regMode frequency is for implicit feedback (Rendle et al. 2022); use spark or plain for explicit ratings")
		}
	default:
		return bad("regMode must be spark, plain or frequency, not %q", p.RegMode)
	}
	if p.RegExponent != 0 && p.RegMode != RegFrequency {
		return bad("regExponent applies only to regMode frequency")
	}
	if p.Biases && p.Implicit {
		return bad("biases are for explicit ratings; implicit feedback has none")
	}
	if p.Nonnegative && p.Solver == SolverCG {
		return bad("nonnegative needs the cholesky solver (NNLS works on the formed normal equations)")
	}
	if p.Nonnegative && p.Biases {
		return bad("nonnegative and biases cannot be combined (biases may be negative)")
	}
	return nil
}

// threads returns the number of workers to use.
func (p Params) threads() int {
	if p.Threads > 0 {
		return p.Threads
	}
	return runtime.GOMAXPROCS(0)
}

// maxRank bounds the rank so that per-worker buffers stay small (the packed
// normal equations of 8 users take 32·k² bytes).
const maxRank = 1024

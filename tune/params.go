package tune

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/recs-dev/recs/als"
)

// Params is one point of a search space: the ALS hyperparameters, named as
// in the als: section of `recs train --config` so that a winning point can
// be written as that section unchanged.
type Params struct {
	Rank        int     `json:"rank" yaml:"rank"`
	MaxIter     int     `json:"max_iter" yaml:"max_iter"`
	Reg         float64 `json:"reg" yaml:"reg"`
	Implicit    bool    `json:"implicit" yaml:"implicit"`
	Alpha       float64 `json:"alpha" yaml:"alpha"`
	Nonnegative bool    `json:"nonnegative" yaml:"nonnegative"`
	Solver      string  `json:"solver" yaml:"solver"`
	CGSteps     int     `json:"cg_steps" yaml:"cg_steps"`
	Biases      bool    `json:"biases" yaml:"biases"`
	RegMode     string  `json:"reg_mode" yaml:"reg_mode"`
	RegExponent float64 `json:"reg_exponent" yaml:"reg_exponent"`
}

// ALS returns the als.Params of p, with the given seed and threads.
func (p Params) ALS(seed int64, threads int) als.Params {
	a := als.Default()
	a.Rank, a.MaxIter, a.Reg, a.Implicit, a.Alpha = p.Rank, p.MaxIter, p.Reg, p.Implicit, p.Alpha
	a.Nonnegative, a.Solver, a.CGSteps = p.Nonnegative, als.Solver(p.Solver), p.CGSteps
	a.Biases, a.RegMode, a.RegExponent = p.Biases, als.RegMode(p.RegMode), p.RegExponent
	a.Seed, a.Threads = seed, threads
	return a
}

// DefaultParams returns the values a parameter takes when a space does not
// mention it: als.Default's, which are Spark MLlib's ALS defaults (rank 10,
// maxIter 10, regParam 0.1, explicit, alpha 1) with the Cholesky solver, 3
// conjugate-gradient steps, no biases and Spark's λ·n_u regularisation.
func DefaultParams() Params {
	a := als.Default()
	return Params{Rank: a.Rank, MaxIter: a.MaxIter, Reg: a.Reg, Implicit: a.Implicit, Alpha: a.Alpha,
		Nonnegative: a.Nonnegative, Solver: string(a.Solver), CGSteps: a.CGSteps, Biases: a.Biases,
		RegMode: string(a.RegMode), RegExponent: a.RegExponent}
}

// kind is the type of a parameter's values.
type kind int

const (
	kindInt kind = iota
	kindFloat
	kindBool
	kindString
)

func (k kind) String() string {
	return [...]string{"an integer", "a number", "true or false", "a string"}[k]
}

// paramDef describes one tunable parameter: its name in YAML, JSON and CSV,
// the type of its values, how to read and write it in Params, and which
// values are valid. Values travel as int, float64, bool or string.
type paramDef struct {
	name  string
	kind  kind
	get   func(*Params) any
	set   func(*Params, any)
	valid func(any) error
}

func positiveInt(v any) error {
	if v.(int) < 1 {
		return fmt.Errorf("must be ≥ 1, not %d", v.(int))
	}
	return nil
}

func nonNegative(v any) error {
	if f := v.(float64); !(f >= 0) || math.IsInf(f, 0) {
		return fmt.Errorf("must be a finite number ≥ 0, not %v", f)
	}
	return nil
}

func oneOf(choices ...string) func(any) error {
	return func(v any) error {
		for _, c := range choices {
			if v.(string) == c {
				return nil
			}
		}
		return fmt.Errorf("must be one of %s, not %q", strings.Join(choices, ", "), v.(string))
	}
}

// params lists the tunable parameters in their canonical order: the order
// of grid enumeration (last varies fastest) and of table columns.
var params = []paramDef{
	{"implicit", kindBool, func(p *Params) any { return p.Implicit }, func(p *Params, v any) { p.Implicit = v.(bool) }, nil},
	{"rank", kindInt, func(p *Params) any { return p.Rank }, func(p *Params, v any) { p.Rank = v.(int) }, positiveInt},
	{"reg", kindFloat, func(p *Params) any { return p.Reg }, func(p *Params, v any) { p.Reg = v.(float64) }, nonNegative},
	{"alpha", kindFloat, func(p *Params) any { return p.Alpha }, func(p *Params, v any) { p.Alpha = v.(float64) }, nonNegative},
	{"max_iter", kindInt, func(p *Params) any { return p.MaxIter }, func(p *Params, v any) { p.MaxIter = v.(int) }, positiveInt},
	{"nonnegative", kindBool, func(p *Params) any { return p.Nonnegative }, func(p *Params, v any) { p.Nonnegative = v.(bool) }, nil},
	{"solver", kindString, func(p *Params) any { return p.Solver }, func(p *Params, v any) { p.Solver = v.(string) }, oneOf("cholesky", "cg")},
	{"cg_steps", kindInt, func(p *Params) any { return p.CGSteps }, func(p *Params, v any) { p.CGSteps = v.(int) }, positiveInt},
	{"biases", kindBool, func(p *Params) any { return p.Biases }, func(p *Params, v any) { p.Biases = v.(bool) }, nil},
	{"reg_mode", kindString, func(p *Params) any { return p.RegMode }, func(p *Params, v any) { p.RegMode = v.(string) }, oneOf("spark", "plain", "frequency")},
	{"reg_exponent", kindFloat, func(p *Params) any { return p.RegExponent }, func(p *Params, v any) { p.RegExponent = v.(float64) }, unitInterval},
}

func unitInterval(v any) error {
	if f := v.(float64); !(f >= 0 && f <= 1) {
		return fmt.Errorf("must be in [0, 1], not %v", f)
	}
	return nil
}

// ParamNames returns the names of the tunable parameters in canonical order.
func ParamNames() []string {
	names := make([]string, len(params))
	for i, d := range params {
		names[i] = d.name
	}
	return names
}

func lookupParam(name string) (paramDef, bool) {
	for _, d := range params {
		if d.name == name {
			return d, true
		}
	}
	return paramDef{}, false
}

// Get returns the value of the named parameter (int, float64, bool or
// string). It panics on an unknown name.
func (p Params) Get(name string) any {
	d, ok := lookupParam(name)
	if !ok {
		panic("tune: unknown parameter " + strconv.Quote(name))
	}
	return d.get(&p)
}

// Validate checks every parameter against its valid values and the
// combination against als.Params.Validate (biases only for explicit
// feedback, frequency regularisation only for implicit, nonnegative only
// with the Cholesky solver, ...).
func (p Params) Validate() error {
	for _, d := range params {
		if d.valid == nil {
			continue
		}
		if err := d.valid(d.get(&p)); err != nil {
			return fmt.Errorf("%s %w", d.name, err)
		}
	}
	return p.ALS(0, 0).Validate()
}

// key is a canonical text of p, equal for equal points; it identifies a
// configuration in a journal and detects duplicates in random sampling.
func (p Params) key() string {
	var b strings.Builder
	for i, d := range params {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(d.name)
		b.WriteByte('=')
		b.WriteString(FormatValue(d.get(&p)))
	}
	return b.String()
}

// String returns the parameters as name=value pairs in canonical order.
func (p Params) String() string { return p.key() }

// FormatValue prints a parameter value the shortest way that reads back exactly.
func FormatValue(v any) string {
	switch x := v.(type) {
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	}
	panic(fmt.Sprintf("tune: value %v of type %T", v, v))
}

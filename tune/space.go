package tune

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/recs-dev/recs/internal/errs"
)

// Space is a search space: for some parameters a list of values (a fixed
// value is a list of one) or a numeric range; the others keep the value of
// Base. The zero Space has no dimensions and Base zero: build spaces with
// ParseSpace, LoadSpace or NewSpace.
type Space struct {
	Base Params // values of the parameters the space does not mention
	Dims []Dim  // in canonical parameter order (see ParamNames)
}

// Dim is one dimension of a space: either Values or Range is set.
type Dim struct {
	Name   string
	Values []any  // choices: int, float64, bool or string, as the parameter's type
	Range  *Range // a numeric range
}

// Range is a closed numeric interval. Random search draws uniformly from
// it (from its logarithm when Log); a grid takes Steps points evenly spaced
// (in the logarithm when Log), ends included. Integer parameters round to
// the nearest integer; points of a float range drawn at random are rounded
// to three significant digits so that tables and configurations read well.
type Range struct {
	Min, Max float64
	Log      bool
	Steps    int // grid points; 0: the range cannot be enumerated
}

// NewSpace returns a space over base with the given dimensions, sorted into
// canonical order, after checking every name and value.
func NewSpace(base Params, dims ...Dim) (Space, error) {
	s := Space{Base: base}
	seen := map[string]bool{}
	for _, d := range dims {
		def, ok := lookupParam(d.Name)
		if !ok {
			return Space{}, fmt.Errorf("unknown parameter %q (known: %s)", d.Name, strings.Join(ParamNames(), ", "))
		}
		if seen[d.Name] {
			return Space{}, fmt.Errorf("parameter %q given twice", d.Name)
		}
		seen[d.Name] = true
		if err := d.check(def); err != nil {
			return Space{}, fmt.Errorf("%s: %w", d.Name, err)
		}
	}
	for _, def := range params {
		for _, d := range dims {
			if d.Name == def.name {
				s.Dims = append(s.Dims, d)
			}
		}
	}
	return s, nil
}

func (d Dim) check(def paramDef) error {
	if (d.Range == nil) == (len(d.Values) == 0) {
		return errors.New("give either a list of values or a range")
	}
	if d.Range != nil {
		r := d.Range
		if def.kind != kindInt && def.kind != kindFloat {
			return fmt.Errorf("a range needs a numeric parameter; %s takes %v", def.name, def.kind)
		}
		if math.IsNaN(r.Min) || math.IsNaN(r.Max) || math.IsInf(r.Min, 0) || math.IsInf(r.Max, 0) || r.Min > r.Max {
			return fmt.Errorf("range min %v, max %v: want finite min ≤ max", r.Min, r.Max)
		}
		if r.Log && r.Min <= 0 {
			return fmt.Errorf("a log range needs min > 0, not %v", r.Min)
		}
		if r.Steps < 0 || (r.Steps == 1 && r.Min != r.Max) {
			return fmt.Errorf("steps %d: want 0 (no grid) or ≥ 2", r.Steps)
		}
		for _, v := range []float64{r.Min, r.Max} {
			if err := validValue(def, d.rangeValue(def, v)); err != nil {
				return err
			}
		}
		return nil
	}
	for _, v := range d.Values {
		if err := validValue(def, v); err != nil {
			return err
		}
	}
	return nil
}

func validValue(def paramDef, v any) error {
	ok := false
	switch v.(type) {
	case int:
		ok = def.kind == kindInt
	case float64:
		ok = def.kind == kindFloat
	case bool:
		ok = def.kind == kindBool
	case string:
		ok = def.kind == kindString
	}
	if !ok {
		return fmt.Errorf("value %v: want %v", v, def.kind)
	}
	if def.valid != nil {
		return def.valid(v)
	}
	return nil
}

// rangeValue converts a number of a range to the parameter's type.
func (d Dim) rangeValue(def paramDef, x float64) any {
	if def.kind == kindInt {
		return int(math.Round(x))
	}
	return x
}

// LoadSpace reads a space file (see ParseSpace).
func LoadSpace(path string) (Space, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Space{}, errs.Input(path, err)
	}
	return ParseSpace(b, path)
}

// ParseSpace reads a space from YAML. Each top-level key is a parameter
// (see ParamNames); its value is a scalar (fixed), a list of choices, or a
// mapping {min, max, log, steps} for a numeric range:
//
//	implicit: true
//	rank: [32, 64, 128]
//	reg: {min: 1, max: 100, log: true, steps: 5}
//	alpha: {min: 0.5, max: 20, log: true}
//
// Parameters not mentioned take DefaultParams' values. Errors name file
// and line.
func ParseSpace(data []byte, file string) (Space, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return Space{}, errs.Inputf(file, 0, "empty search space")
		}
		return Space{}, errs.Inputf(file, 0, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return Space{}, errs.Inputf(file, int64(root.Line), "a search space is a mapping of parameter names to values, lists or ranges")
	}
	var dims []Dim
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		def, ok := lookupParam(k.Value)
		if !ok {
			return Space{}, errs.Inputf(file, int64(k.Line), "unknown parameter %q (known: %s)", k.Value, strings.Join(ParamNames(), ", "))
		}
		d, err := parseDim(def, v)
		if err != nil {
			return Space{}, errs.Inputf(file, int64(v.Line), "%s: %v", def.name, err)
		}
		for _, prev := range dims {
			if prev.Name == def.name {
				return Space{}, errs.Inputf(file, int64(k.Line), "parameter %q given twice", def.name)
			}
		}
		if err := d.check(def); err != nil {
			return Space{}, errs.Inputf(file, int64(v.Line), "%s: %v", def.name, err)
		}
		dims = append(dims, d)
	}
	if len(dims) == 0 {
		return Space{}, errs.Inputf(file, 0, "empty search space")
	}
	s, err := NewSpace(DefaultParams(), dims...)
	if err != nil {
		return Space{}, errs.Input(file, err)
	}
	return s, nil
}

func parseDim(def paramDef, n *yaml.Node) (Dim, error) {
	d := Dim{Name: def.name}
	switch n.Kind {
	case yaml.ScalarNode:
		v, err := parseScalar(def, n)
		if err != nil {
			return d, err
		}
		d.Values = []any{v}
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return d, errors.New("empty list")
		}
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return d, fmt.Errorf("line %d: list items must be plain values", c.Line)
			}
			v, err := parseScalar(def, c)
			if err != nil {
				return d, err
			}
			for _, w := range d.Values {
				if w == v {
					return d, fmt.Errorf("value %v listed twice", v)
				}
			}
			d.Values = append(d.Values, v)
		}
	case yaml.MappingNode:
		r := &Range{}
		var haveMin, haveMax bool
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			var err error
			switch k.Value {
			case "min":
				r.Min, err = parseNumber(v)
				haveMin = true
			case "max":
				r.Max, err = parseNumber(v)
				haveMax = true
			case "log":
				err = v.Decode(&r.Log)
			case "steps":
				err = v.Decode(&r.Steps)
			default:
				return d, fmt.Errorf("unknown range key %q (want min, max, log, steps)", k.Value)
			}
			if err != nil {
				return d, fmt.Errorf("%s: %v", k.Value, strings.TrimPrefix(err.Error(), "yaml: "))
			}
		}
		if !haveMin || !haveMax {
			return d, errors.New("a range needs min and max")
		}
		d.Range = r
	default:
		return d, errors.New("want a value, a list or a range {min, max, log, steps}")
	}
	return d, nil
}

func parseNumber(n *yaml.Node) (float64, error) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		return 0, fmt.Errorf("%q is not a number", n.Value)
	}
	return strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
}

func parseScalar(def paramDef, n *yaml.Node) (any, error) {
	switch def.kind {
	case kindInt:
		var v int
		if n.Tag != "!!int" || n.Decode(&v) != nil {
			return nil, fmt.Errorf("%q is not an integer", n.Value)
		}
		return v, nil
	case kindFloat:
		f, err := parseNumber(n)
		if err != nil {
			return nil, err
		}
		return f, nil
	case kindBool:
		var v bool
		if n.Tag != "!!bool" || n.Decode(&v) != nil {
			return nil, fmt.Errorf("%q is not true or false", n.Value)
		}
		return v, nil
	default:
		if n.Tag != "!!str" {
			return nil, fmt.Errorf("%q is not a string", n.Value)
		}
		return n.Value, nil
	}
}

// String describes the space in one line, canonically: equal spaces give
// equal strings (a journal records it to recognise its search).
func (s Space) String() string {
	var b strings.Builder
	b.WriteString("base{" + s.Base.key() + "}")
	for _, d := range s.Dims {
		b.WriteString(" " + d.Name + "=")
		if d.Range != nil {
			scale := "lin"
			if d.Range.Log {
				scale = "log"
			}
			fmt.Fprintf(&b, "%s[%s,%s]/%d", scale, FormatValue(d.Range.Min), FormatValue(d.Range.Max), d.Range.Steps)
			continue
		}
		vals := make([]string, len(d.Values))
		for i, v := range d.Values {
			vals[i] = FormatValue(v)
		}
		b.WriteString("{" + strings.Join(vals, ",") + "}")
	}
	return b.String()
}

// Varying returns the names of the dimensions with more than one value.
func (s Space) Varying() []string {
	var names []string
	for _, d := range s.Dims {
		if d.Range != nil && d.Range.Min != d.Range.Max || len(d.Values) > 1 {
			names = append(names, d.Name)
		}
	}
	return names
}

// points returns the grid points of dimension d.
func (d Dim) points() ([]any, error) {
	if d.Range == nil {
		return d.Values, nil
	}
	def, _ := lookupParam(d.Name)
	r := d.Range
	if r.Min == r.Max {
		return []any{d.rangeValue(def, r.Min)}, nil
	}
	if r.Steps == 0 {
		return nil, fmt.Errorf("%s: a range needs steps to be part of a grid", d.Name)
	}
	var out []any
	seen := map[any]bool{}
	for i := 0; i < r.Steps; i++ {
		t := float64(i) / float64(r.Steps-1)
		var x float64
		if r.Log {
			x = math.Exp(math.Log(r.Min) + t*(math.Log(r.Max)-math.Log(r.Min)))
		} else {
			x = r.Min + t*(r.Max-r.Min)
		}
		if i == r.Steps-1 {
			x = r.Max // no rounding error at the end
		}
		if def.kind == kindFloat {
			x = roundSig(x, 6)
		}
		v := d.rangeValue(def, x)
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out, nil
}

// GridSize returns the number of points of the grid over s, or an error if
// a range has no steps.
func (s Space) GridSize() (int, error) {
	n := 1
	for _, d := range s.Dims {
		pts, err := d.points()
		if err != nil {
			return 0, err
		}
		if n > math.MaxInt32/len(pts) {
			return 0, errors.New("the grid has more than 2³¹ points")
		}
		n *= len(pts)
	}
	return n, nil
}

// Grid returns every point of the grid over s: dimensions in canonical
// order, the last varying fastest, each list in the order given.
func (s Space) Grid() ([]Params, error) {
	n, err := s.GridSize()
	if err != nil {
		return nil, err
	}
	pts := make([][]any, len(s.Dims))
	for i, d := range s.Dims {
		pts[i], _ = d.points()
	}
	out := make([]Params, 0, n)
	idx := make([]int, len(s.Dims))
	for {
		p := s.Base
		for i, d := range s.Dims {
			def, _ := lookupParam(d.Name)
			def.set(&p, pts[i][idx[i]])
		}
		out = append(out, p)
		j := len(idx) - 1
		for ; j >= 0; j-- {
			idx[j]++
			if idx[j] < len(pts[j]) {
				break
			}
			idx[j] = 0
		}
		if j < 0 {
			return out, nil
		}
	}
}

// Sample draws one point: a uniform choice from each list, a uniform draw
// from each range (from its logarithm when Log). Dimensions draw in
// canonical order, one or two numbers each, so the same generator state
// gives the same point.
func (s Space) Sample(rng *rand.Rand) Params {
	p := s.Base
	for _, d := range s.Dims {
		def, _ := lookupParam(d.Name)
		if d.Range == nil {
			def.set(&p, d.Values[rng.IntN(len(d.Values))])
			continue
		}
		r, u := d.Range, rng.Float64()
		var x float64
		if r.Log {
			x = math.Exp(math.Log(r.Min) + u*(math.Log(r.Max)-math.Log(r.Min)))
		} else {
			x = r.Min + u*(r.Max-r.Min)
		}
		if def.kind == kindFloat {
			x = roundSig(x, 3)
		}
		x = math.Min(math.Max(x, r.Min), r.Max)
		def.set(&p, d.rangeValue(def, x))
	}
	return p
}

// size returns the number of distinct points of s when every dimension is
// finite (lists, integer ranges), or -1 when a float range makes it
// practically infinite.
func (s Space) size() int {
	n := 1
	for _, d := range s.Dims {
		m := len(d.Values)
		if d.Range != nil {
			def, _ := lookupParam(d.Name)
			if def.kind != kindInt {
				return -1
			}
			m = int(math.Round(d.Range.Max)-math.Round(d.Range.Min)) + 1
		}
		if n > math.MaxInt32/m {
			return -1
		}
		n *= m
	}
	return n
}

// roundSig rounds x to n significant decimal digits.
func roundSig(x float64, n int) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	f, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', n, 64), 64)
	return f
}

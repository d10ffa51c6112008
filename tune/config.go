package tune

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// ConfigYAML returns p as the als: section of a `recs train --config`
// file, with the given seed:
//
//	als:
//	  rank: 64
//	  max_iter: 12
//	  ...
//
// Spark's parameters (rank, max_iter, reg, implicit, alpha, nonnegative,
// seed) and the solver are always written; recs's extensions (biases,
// reg_mode, reg_exponent) only when they differ from their defaults, so the
// file reads the same as a hand-written one.
func (p Params) ConfigYAML(seed int64) []byte {
	d := DefaultParams()
	sec := yaml.Node{Kind: yaml.MappingNode}
	add := func(name string, v any) {
		var k, val yaml.Node
		k.SetString(name)
		if err := val.Encode(v); err != nil {
			panic("tune: " + err.Error())
		}
		sec.Content = append(sec.Content, &k, &val)
	}
	add("rank", p.Rank)
	add("max_iter", p.MaxIter)
	add("reg", p.Reg)
	add("implicit", p.Implicit)
	add("alpha", p.Alpha)
	add("nonnegative", p.Nonnegative)
	add("seed", seed)
	add("solver", p.Solver)
	add("cg_steps", p.CGSteps)
	if p.Biases != d.Biases {
		add("biases", p.Biases)
	}
	if p.RegMode != d.RegMode {
		add("reg_mode", p.RegMode)
	}
	if p.RegExponent != d.RegExponent {
		add("reg_exponent", p.RegExponent)
	}
	var key yaml.Node
	key.SetString("als")
	doc := yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{&key, &sec}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		panic(fmt.Sprintf("tune: %v", err))
	}
	enc.Close()
	return buf.Bytes()
}

package tune

import _ "embed"

// DefaultSpaceYAML is the default search space of `recs tune`, documented
// in its comments; testdata/tune/default.yaml is a copy kept equal by a
// test.
//
//go:embed default_space.yaml
var DefaultSpaceYAML []byte

// DefaultSpace returns the parsed DefaultSpaceYAML.
func DefaultSpace() Space {
	s, err := ParseSpace(DefaultSpaceYAML, "default_space.yaml")
	if err != nil {
		panic("tune: the default space does not parse: " + err.Error())
	}
	return s
}

package tune

import (
	"bytes"
	"math/rand/v2"
	"os"
	"testing"
)

// TestDefaultSpace: the embedded default parses, every point is implicit
// ALS with a plain λ that ALS accepts, and its copy under testdata/tune is
// identical.
func TestDefaultSpace(t *testing.T) {
	s := DefaultSpace()
	rng := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 100; i++ {
		p := s.Sample(rng)
		if !p.Implicit || p.RegMode != "plain" || p.Solver != "cg" {
			t.Fatalf("default space point %s", p)
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("default space point %s: %v", p, err)
		}
	}
	copyBytes, err := os.ReadFile("../testdata/tune/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(copyBytes, DefaultSpaceYAML) {
		t.Errorf("testdata/tune/default.yaml differs from tune/default_space.yaml: copy one over the other")
	}
}

package tune

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
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

// TestExampleSpaces: every space under testdata/tune parses and has valid
// points.
func TestExampleSpaces(t *testing.T) {
	paths, err := filepath.Glob("../testdata/tune/*.yaml")
	if err != nil || len(paths) < 2 {
		t.Fatalf("example spaces: %v %v", paths, err)
	}
	for _, p := range paths {
		s, err := LoadSpace(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if pts := sampleDistinct(s, 1, 10); len(pts) == 0 {
			t.Errorf("%s: no valid point", p)
		}
	}
}

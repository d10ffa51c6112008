//go:build !purego

package als

import (
	"testing"

	"golang.org/x/sys/cpu"
)

// TestNEONRegistered: on a CPU with ASIMD the NEON tier is registered and is
// the one Fit uses by default, so TestTiersAgree and TestFitMatchesReference
// check it rather than silently running the gonum tier alone.
func TestNEONRegistered(t *testing.T) {
	if !cpu.ARM64.HasASIMD {
		t.Fatal("x/sys/cpu reports no ASIMD: every ARMv8-A application core has it")
	}
	if tiers["neon"] != &neonKernels {
		t.Fatalf("tiers %v: neon is not registered", KernelTiers())
	}
	if got := best().name; got != "neon" {
		t.Fatalf("fastest tier %q, want neon", got)
	}
}

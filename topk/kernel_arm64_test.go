//go:build !purego

package topk

import (
	"testing"

	"golang.org/x/sys/cpu"
)

// TestNEONRegistered: on a CPU with ASIMD the NEON kernel is the first one,
// so TestKernelsAgree and TestKernelTiles check it rather than skipping.
func TestNEONRegistered(t *testing.T) {
	if !cpu.ARM64.HasASIMD {
		t.Fatal("x/sys/cpu reports no ASIMD: every ARMv8-A application core has it")
	}
	if kernels[0] != neon {
		t.Fatalf("kernels %v, want neon first", KernelTiers())
	}
}

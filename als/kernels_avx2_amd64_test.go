//go:build !purego

package als

import (
	"slices"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestAMD64TiersRegistered: a tier whose instructions the CPU (and OS)
// supports is registered, so TestTiersAgree and the fit tests can never
// silently skip it on such a machine; a tier it lacks is not, and asking
// for it is an error.
func TestAMD64TiersRegistered(t *testing.T) {
	for _, tc := range []struct {
		name string
		has  bool
		kern *kernels
	}{
		{"avx2", cpu.X86.HasAVX2 && cpu.X86.HasFMA, &avx2Kernels},
		{"avx512", cpu.X86.HasAVX512F, &avx512Kernels},
	} {
		t.Logf("%s: CPU support %v", tc.name, tc.has)
		if got := tiers[tc.name]; (got != nil) != tc.has || (got != nil && got != tc.kern) {
			t.Errorf("tier %s: registered %v, CPU support %v", tc.name, got != nil, tc.has)
		}
		if slices.Contains(KernelTiers(), tc.name) != tc.has {
			t.Errorf("KernelTiers() = %v: %s listed %v, CPU support %v", KernelTiers(), tc.name, !tc.has, tc.has)
		}
		err := UseKernels(tc.name)
		if (err == nil) != tc.has {
			t.Errorf("UseKernels(%q) = %v, CPU support %v", tc.name, err, tc.has)
		}
		if err == nil && Kernels() != tc.name {
			t.Errorf("after UseKernels(%q), Kernels() = %q", tc.name, Kernels())
		}
		if err := UseKernels("auto"); err != nil {
			t.Fatal(err)
		}
	}
}

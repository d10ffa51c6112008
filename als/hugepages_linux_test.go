package als

import (
	"testing"
	"unsafe"
)

// factorSlice aligns large matrices to a huge page (so that the kernel can
// back them with 2 MiB pages) and returns exactly n zeroed values whatever
// the size.
func TestFactorSlice(t *testing.T) {
	for _, n := range []int{0, 1, 1000, 2*hugePage/4 - 1, 2 * hugePage / 4, 5*hugePage/4 + 3} {
		f := factorSlice(n)
		if len(f) != n || cap(f) != n {
			t.Fatalf("n=%d: len %d cap %d", n, len(f), cap(f))
		}
		for i, v := range f {
			if v != 0 {
				t.Fatalf("n=%d: f[%d] = %v, want 0", n, i, v)
			}
		}
		if n >= 2*hugePage/4 {
			if a := uintptr(unsafe.Pointer(&f[0])) % hugePage; a != 0 {
				t.Errorf("n=%d: start %d bytes past a huge page boundary", n, a)
			}
		}
	}
}

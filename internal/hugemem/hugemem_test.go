package hugemem

import (
	"testing"
	"unsafe"
)

// Make returns exactly the length and capacity asked for, zeroed, and
// aligns slices of two huge pages or more to a huge page.
func TestMake(t *testing.T) {
	check := func(name string, n, c, size int, p unsafe.Pointer, gotLen, gotCap int, zero bool) {
		t.Helper()
		if gotLen != n || gotCap != max(n, c) {
			t.Fatalf("%s n=%d c=%d: len %d cap %d", name, n, c, gotLen, gotCap)
		}
		if !zero {
			t.Fatalf("%s n=%d: not zeroed", name, n)
		}
		if max(n, c)*size >= 2*PageSize && uintptr(p)%PageSize != 0 {
			t.Errorf("%s n=%d c=%d: start %d bytes past a huge page", name, n, c, uintptr(p)%PageSize)
		}
	}
	for _, tc := range []struct{ n, c int }{{0, 0}, {1, 1}, {1000, 5000}, {PageSize / 4, PageSize / 2}, {PageSize/2 - 1, 0}, {PageSize/2 + 3, PageSize}} {
		f := Make[float32](tc.n, tc.c)
		zero := true
		for _, v := range f[:cap(f)] {
			zero = zero && v == 0
		}
		var p unsafe.Pointer
		if cap(f) > 0 {
			p = unsafe.Pointer(&f[:1][0])
		}
		check("float32", tc.n, tc.c, 4, p, len(f), cap(f), zero)
		g := Make[int64](tc.n, tc.c)
		zero = true
		for _, v := range g[:cap(g)] {
			zero = zero && v == 0
		}
		if cap(g) > 0 {
			p = unsafe.Pointer(&g[:1][0])
		}
		check("int64", tc.n, tc.c, 8, p, len(g), cap(g), zero)
	}
}

package als

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePage is the size of a transparent huge page on amd64 and arm64 Linux
// (with 4 KiB base pages).
const hugePage = 2 << 20

// factorSlice returns n zeroed float32s for a factor matrix. When the
// matrix spans several huge pages it is aligned to one and marked
// MADV_HUGEPAGE, because the solvers read its rows in random order (one
// row per rating) and, with 4 KiB pages, a matrix of tens of megabytes
// misses the TLB on nearly every row. Most distributions leave
// transparent huge pages on "madvise", where the Go heap gets none unless
// asked. The hint is only a hint: without huge pages (THP "never", a
// kernel without them, an error) the slice works the same; its values
// and so the fit do not depend on it.
func factorSlice(n int) []float32 {
	const per = hugePage / 4 // float32s per huge page
	if n < 2*per {
		return make([]float32, n)
	}
	buf := make([]float32, n+per)
	off := 0
	if r := uintptr(unsafe.Pointer(&buf[0])) % hugePage; r != 0 {
		off = int(hugePage-r) / 4
	}
	out := buf[off : off+n : off+n]
	// Only whole huge pages, from the aligned start.
	b := unsafe.Slice((*byte)(unsafe.Pointer(&out[0])), (n*4)&^(hugePage-1))
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE) // a hint: an error changes nothing
	return out
}

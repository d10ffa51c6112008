package hugemem

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// advise marks the n bytes at p (whole huge pages) MADV_HUGEPAGE; an error
// changes nothing but speed, so it is dropped.
func advise(p unsafe.Pointer, n int) {
	_ = unix.Madvise(unsafe.Slice((*byte)(p), n), unix.MADV_HUGEPAGE)
}

//go:build !linux

package hugemem

import "unsafe"

// advise does nothing where there is no madvise(MADV_HUGEPAGE).
func advise(unsafe.Pointer, int) {}

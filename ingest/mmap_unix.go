//go:build unix

package ingest

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps the size bytes of f read-only, or returns nil when it
// cannot (the caller then reads f). The text parser reads a mapped file's
// lines in place: with read(2) every byte was first copied into a chunk
// buffer, about 5% of the CPU time of ingesting a 671 MB CSV. unmap
// releases the mapping.
func mapFile(f *os.File, size int64) (data []byte, unmap func() error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, nil
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil
	}
	_ = unix.Madvise(data, unix.MADV_SEQUENTIAL) // a hint: read ahead
	return data, func() error { return unix.Munmap(data) }
}

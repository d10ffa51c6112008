package atomicfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to begin writing the n bytes of f at off
// to the disk, without waiting (sync_file_range with
// SYNC_FILE_RANGE_WRITE). It is no durability guarantee (Commit's fsync
// is); an error only means the sync does all the work, so it is dropped.
func startWriteback(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}

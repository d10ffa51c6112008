//go:build unix

package serve

import (
	"fmt"
	"io/fs"
	"syscall"
)

// fileID is ":DEVICE:INODE" of fi: a file replaced by a rename is a new
// version even when its size and modification time are the same.
func fileID(fi fs.FileInfo) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf(":%d:%d", st.Dev, st.Ino)
	}
	return ""
}

// Package atomicfile writes files so that a reader sees either the old
// content or the complete new content, never a partial write: data goes to
// a temporary file in the same directory, is synced, and is renamed over the
// target only on Commit.
package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// File is a pending replacement of a file. Write to it, then Commit; on any
// failure call Abort (safe after Commit, so `defer f.Abort()` is the idiom).
type File struct {
	*os.File
	path    string
	done    bool
	written int64 // bytes written through Write
	started int64 // bytes whose writeback has been started
	kicks   sync.WaitGroup
}

// writebackChunk is how many written bytes make Write start their
// writeback to the disk (where the OS allows: startWriteback), so that
// Commit's sync waits for the last chunk only, not the whole file.
const writebackChunk = 32 << 20

// Write writes p to the temporary file and, every writebackChunk bytes,
// starts the writeback of what was written, on a goroutine of its own:
// the kernel call can itself wait for the disk for milliseconds.
func (f *File) Write(p []byte) (int, error) {
	n, err := f.File.Write(p)
	f.written += int64(n)
	if f.written-f.started >= writebackChunk {
		off, size := f.started, f.written-f.started
		f.kicks.Go(func() { startWriteback(f.File, off, size) })
		f.started = f.written
	}
	return n, err
}

// Create starts writing path. The directory must exist.
func Create(path string) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &File{File: tmp, path: path}, nil
}

// Commit syncs and closes the temporary file, renames it over the target
// and syncs the directory, so the new content survives a power failure
// once Commit returns.
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: already committed or aborted")
	}
	f.done = true
	f.kicks.Wait()
	if err := f.File.Sync(); err != nil {
		f.File.Close()
		os.Remove(f.File.Name())
		return err
	}
	if err := f.File.Close(); err != nil {
		os.Remove(f.File.Name())
		return err
	}
	if err := os.Chmod(f.File.Name(), 0o644); err != nil {
		os.Remove(f.File.Name())
		return err
	}
	if err := os.Rename(f.File.Name(), f.path); err != nil {
		os.Remove(f.File.Name())
		return err
	}
	return SyncDir(filepath.Dir(f.path))
}

// SyncDir flushes a directory's entries (new, renamed and removed names)
// to stable storage.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Abort discards the temporary file. It does nothing after Commit.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.kicks.Wait()
	f.File.Close()
	os.Remove(f.File.Name())
}

// WriteFile writes path atomically with the bytes fn writes. If fn fails,
// the previous content of path (if any) is untouched.
func WriteFile(path string, fn func(w io.Writer) error) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := fn(f); err != nil {
		return err
	}
	return f.Commit()
}

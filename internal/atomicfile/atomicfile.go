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
)

// File is a pending replacement of a file. Write to it, then Commit; on any
// failure call Abort (safe after Commit, so `defer f.Abort()` is the idiom).
type File struct {
	*os.File
	path string
	done bool
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

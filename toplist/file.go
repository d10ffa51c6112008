package toplist

import (
	"io"

	"github.com/recs-dev/recs/internal/atomicfile"
)

// WriteFile writes lists to path atomically (temporary file and rename), in
// the format its extension names. On error nothing is left at path (a
// previous file stays as it was).
func WriteFile(path string, meta Meta, lists []List) error {
	format, err := FormatOf(path)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, func(w io.Writer) error {
		tw, err := NewWriter(w, format, meta)
		if err != nil {
			return err
		}
		for _, l := range lists {
			if err := tw.Write(l); err != nil {
				return err
			}
		}
		return tw.Close()
	})
}

// ReadFile reads every list of the file at path.
func ReadFile(path string) (Meta, []List, error) {
	r, err := Open(path)
	if err != nil {
		return Meta{}, nil, err
	}
	defer r.Close()
	lists, err := r.ReadAll()
	if err != nil {
		return Meta{}, nil, err
	}
	return r.Meta(), lists, nil
}

// Create starts an atomic streaming write of a list file at path: write
// lists to the returned FileWriter, then Commit (which closes the stream
// and renames the file into place) or Abort.
func Create(path string, meta Meta) (*FileWriter, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(f, format, meta)
	if err != nil {
		f.Abort()
		return nil, err
	}
	return &FileWriter{Writer: w, f: f}, nil
}

// FileWriter is a Writer whose output becomes visible at its path only on
// Commit.
type FileWriter struct {
	*Writer
	f *atomicfile.File
}

// Commit finishes the stream and renames the file into place.
func (fw *FileWriter) Commit() error {
	if err := fw.Writer.Close(); err != nil {
		fw.f.Abort()
		return err
	}
	return fw.f.Commit()
}

// Abort discards the file. It does nothing after Commit, so `defer
// fw.Abort()` is the idiom.
func (fw *FileWriter) Abort() { fw.f.Abort() }

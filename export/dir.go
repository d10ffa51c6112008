package export

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/recs-dev/recs/internal/atomicfile"
	"github.com/recs-dev/recs/toplist"
)

// DirSink publishes into a local directory: the data files (DataName of
// each format) and then manifest.json, each through a temporary file that
// is renamed into place, so a reader that follows the manifest never sees
// a partial run.
//
// Use a fresh Prefix per run to keep history and to keep readers of an
// older manifest away from newer data files.
type DirSink struct {
	Dir      string           // created if missing
	Prefix   string           // subdirectory of Dir for this run; "" for Dir itself
	Formats  []toplist.Format // data files to write; empty: DefaultFormats
	Progress *Counters        // optional live counters
}

// Publish implements Sink.
func (s *DirSink) Publish(ctx context.Context, meta toplist.Meta, src ListSource) (Stats, error) {
	start := time.Now()
	c := countersOr(s.Progress)
	formats, err := checkFormats(s.Formats)
	if err != nil {
		return Stats{}, err
	}
	dir, err := joinPrefix(s.Dir, s.Prefix)
	if err != nil {
		return Stats{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Stats{}, err
	}
	m, err := writeFiles(ctx, meta, src, formats, func(name string, _ toplist.Format) (dest, error) {
		f, err := atomicfile.Create(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		return fileDest{f}, nil
	}, c)
	if err != nil {
		return c.snapshot(start), err
	}
	b, err := m.encode()
	if err != nil {
		return c.snapshot(start), err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ManifestName), func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}); err != nil {
		return c.snapshot(start), err
	}
	c.Bytes.Add(int64(len(b)))
	st := c.snapshot(start)
	st.Manifest = m
	return st, nil
}

type fileDest struct{ f *atomicfile.File }

func (d fileDest) Write(p []byte) (int, error)      { return d.f.Write(p) }
func (d fileDest) commit(ctx context.Context) error { return d.f.Commit() }
func (d fileDest) abort()                           { d.f.Abort() }

// joinPrefix appends a relative prefix to dir, refusing one that climbs out.
func joinPrefix(dir, prefix string) (string, error) {
	p := strings.Trim(prefix, "/")
	if p == "" {
		return dir, nil
	}
	clean := filepath.Clean(filepath.FromSlash(p))
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("prefix %q must stay inside the directory", prefix)
	}
	return filepath.Join(dir, clean), nil
}

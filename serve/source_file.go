package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/recs-dev/recs/ingest"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/rundir"
	"github.com/recs-dev/recs/toplist"
)

// FileSource loads an Index from local files. Path is one of
//   - a run directory (it holds manifest.json): its top-k file, and with
//     Popular its training split for the fallback;
//   - a run root (it holds a "latest" link): the run latest points at,
//     resolved afresh on each load, so a new run is picked up when
//     `recs train` switches the link;
//   - a top-k file (.jsonl, .jsonl.gz, .parquet).
//
// Symbolic links are resolved once per load and everything is read from the
// resolved directory, so a load never mixes two runs.
type FileSource struct {
	Path    string
	Popular bool // load the run's popular items (run directories only)
}

var _ Loader = (*FileSource)(nil)

func (f *FileSource) String() string { return f.Path }

// target is what Path designates right now.
type target struct {
	runDir string // resolved run directory, or ""
	file   string // resolved top-k file
	man    *rundir.Manifest
}

func (f *FileSource) resolve() (target, error) {
	real, err := filepath.EvalSymlinks(f.Path)
	if err != nil {
		return target{}, errs.Input(f.Path, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return target{}, errs.Input(f.Path, err)
	}
	if !fi.IsDir() {
		return target{file: real}, nil
	}
	if _, err := os.Stat(filepath.Join(real, rundir.ManifestFile)); err != nil {
		latest := filepath.Join(real, rundir.LatestLink)
		if _, lerr := os.Lstat(latest); lerr != nil {
			return target{}, errs.Inputf(f.Path, 0, "not a run directory (no %s) nor a run root (no %s link)", rundir.ManifestFile, rundir.LatestLink)
		}
		if real, err = filepath.EvalSymlinks(latest); err != nil {
			return target{}, errs.Input(latest, err)
		}
	}
	man, err := rundir.ReadManifest(real)
	if err != nil {
		return target{}, errs.Input(filepath.Join(real, rundir.ManifestFile), err)
	}
	if man.Status != "" && man.Status != "ok" {
		return target{}, errs.Inputf(real, 0, "run status is %q, not ok: its lists were not published", man.Status)
	}
	return target{runDir: real, file: man.Path(real, "topk", rundir.TopKFile), man: man}, nil
}

// Version identifies the content: the resolved file and its identity
// (device, inode, size, modification time), so an atomic replacement or a
// switched link changes it.
func (f *FileSource) Version(ctx context.Context) (string, error) {
	t, err := f.resolve()
	if err != nil {
		return "", err
	}
	return fileVersion(t.file)
}

func fileVersion(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", errs.Input(path, err)
	}
	v := fmt.Sprintf("%s@%d:%d", path, fi.Size(), fi.ModTime().UnixNano())
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		v += fmt.Sprintf(":%d:%d", st.Dev, st.Ino)
	}
	return v, nil
}

// Load reads the lists (and, with Popular, the run's training data).
func (f *FileSource) Load(ctx context.Context) (*Index, string, error) {
	t, err := f.resolve()
	if err != nil {
		return nil, "", err
	}
	// The version is taken before reading: if the file changes during the
	// read, the next poll sees a different version and loads again.
	v, err := fileVersion(t.file)
	if err != nil {
		return nil, "", err
	}
	idx, err := LoadTopKFile(ctx, t.file)
	if err != nil {
		return nil, "", err
	}
	var pop *Popular
	if f.Popular && t.runDir != "" {
		train := t.man.Path(t.runDir, "train", rundir.TrainFile)
		if pop, err = LoadPopular(ctx, train, idx.MaxK()); err != nil {
			return nil, "", fmt.Errorf("popular items for the fallback: %w", err)
		}
	}
	src := f.Path
	if t.runDir != "" {
		src = t.runDir
	}
	return idx.WithSource(src, v, pop), v, nil
}

// LoadTopKFile reads a top-k file (any toplist format) into an Index,
// checking ctx as it goes.
func LoadTopKFile(ctx context.Context, path string) (*Index, error) {
	rd, err := toplist.Open(path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	hint := 0
	if n := rd.Len(); n > 0 {
		hint = int(n)
	}
	b := NewBuilder(rd.Meta(), hint)
	for {
		l, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := b.Add(l); err != nil {
			return nil, errs.Input(path, err)
		}
		if b.Len()%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return b.Build(), nil
}

// LoadPopular reads a ratings file (a training split, or any file `recs
// ingest` reads) and returns its k most-rated items (see
// PopularFromTable).
func LoadPopular(ctx context.Context, path string, k int) (*Popular, error) {
	t, err := ingest.LoadTable(ctx, path)
	if err != nil {
		return nil, err
	}
	if t.Len() == 0 {
		return nil, errs.Inputf(path, 0, "no ratings: cannot rank popular items")
	}
	return PopularFromTable(t, k), nil
}

package serve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/recs-dev/recs/export"
	"github.com/recs-dev/recs/ingest"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/rundir"
	"github.com/recs-dev/recs/toplist"
)

// FileSource loads an Index from local files. Path is one of
//   - a run directory (it holds manifest.json): its top-k file, and with
//     Popular its training split for the fallback;
//   - a publication directory of `recs export --to dir` (its manifest.json
//     is a export.Manifest): the data file the manifest names (Parquet
//     preferred), or every shard's file of a sharded publication, each
//     checked against the manifest's size and SHA-256;
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

	// A publication directory: its manifest's path and the entries of its
	// files in the format read (one, or one per shard; file is the first).
	pubManifest string
	pub         *export.Manifest
	pubFiles    []export.ManifestFile
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
	if t, ok, err := resolvePublication(real); ok || err != nil {
		return t, err
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

// resolvePublication reads dir/manifest.json if it is a publication's
// manifest (format export.ManifestFormat); ok is false for anything else.
func resolvePublication(dir string) (t target, ok bool, err error) {
	path := filepath.Join(dir, export.ManifestName)
	b, err := os.ReadFile(path)
	if err != nil {
		return target{}, false, nil
	}
	var head struct {
		Format string `json:"format"`
	}
	if json.Unmarshal(b, &head) != nil || head.Format != export.ManifestFormat {
		return target{}, false, nil
	}
	m, err := export.ReadManifest(bytes.NewReader(b), path)
	if err != nil {
		return target{}, true, errs.Inputf("", 0, "%v", err)
	}
	if files := m.Readable(); len(files) > 0 {
		return target{file: filepath.Join(dir, filepath.FromSlash(files[0].Name)), pubManifest: path, pub: m, pubFiles: files}, true, nil
	}
	return target{}, true, errs.Inputf(path, 0, "names no data file recs can read")
}

// Version identifies the content: the resolved file and its identity
// (device, inode, size, modification time), so an atomic replacement or a
// switched link changes it. For a publication directory it is the
// manifest's identity: a publication replaces it, and only it.
func (f *FileSource) Version(ctx context.Context) (string, error) {
	t, err := f.resolve()
	if err != nil {
		return "", err
	}
	if t.pub != nil {
		return fileVersion(t.pubManifest)
	}
	return fileVersion(t.file)
}

func fileVersion(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", errs.Input(path, err)
	}
	v := fmt.Sprintf("%s@%d:%d", path, fi.Size(), fi.ModTime().UnixNano())
	return v + fileID(fi), nil
}

// Load reads the lists (and, with Popular, the run's training data).
func (f *FileSource) Load(ctx context.Context) (*Index, string, error) {
	t, err := f.resolve()
	if err != nil {
		return nil, "", err
	}
	if t.pub != nil {
		return f.loadPublication(ctx, t)
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

// loadPublication reads the data files a publication's manifest names (one,
// or one per shard). Each file is opened once, hashed and then read from
// that same open file, so a later publication that deletes it cannot pull
// it away midway; a file the manifest names but that is gone or differs
// fails the load (the previous lists keep serving, and the next poll reads
// the manifest again).
func (f *FileSource) loadPublication(ctx context.Context, t target) (*Index, string, error) {
	v, err := fileVersion(t.pubManifest)
	if err != nil {
		return nil, "", err
	}
	dir := filepath.Dir(t.pubManifest)
	var b *Builder
	if len(t.pubFiles) > 1 {
		b = NewBuilder(t.pub.Meta(), int(t.pub.Users))
	}
	var idx *Index
	for _, mf := range t.pubFiles {
		if idx, err = f.loadPublicationFile(ctx, t, mf, filepath.Join(dir, filepath.FromSlash(mf.Name)), b); err != nil {
			return nil, "", err
		}
	}
	if b != nil {
		idx = b.Build()
	}
	if int64(idx.Len()) != t.pub.Users {
		return nil, "", errs.Inputf(t.pubManifest, 0, "counts %d users, %s holds %d", t.pub.Users, filesNamed(t.pubFiles), idx.Len())
	}
	return idx.WithSource(dir, v, nil), v, nil
}

// loadPublicationFile checks one data file of a publication against its
// manifest entry and reads it: into b when b is not nil (the parts of a
// sharded publication), else into an Index of its own.
func (f *FileSource) loadPublicationFile(ctx context.Context, t target, mf export.ManifestFile, path string, b *Builder) (*Index, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, errs.Inputf(t.pubManifest, 0, "names %s, which cannot be read (removed by a later publication?): %v", mf.Name, err)
	}
	defer fh.Close()
	h := sha256.New()
	n, err := io.Copy(h, fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); n != mf.Bytes || sum != mf.SHA256 {
		return nil, errs.Inputf(path, 0, "%d bytes with SHA-256 %s, but %s says %d bytes, %.12s: not the file the manifest names",
			n, sum[:12], t.pubManifest, mf.Bytes, mf.SHA256)
	}
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	rd, err := toplist.NewReader(fh, mf.Format, path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	if b == nil {
		return loadTopK(ctx, rd, path)
	}
	if m := rd.Meta(); m.Model != t.pub.Model || m.K != t.pub.K {
		return nil, errs.Inputf(path, 0, "holds lists of model %s, k %d; %s says model %s, k %d", m.Model, m.K, t.pubManifest, t.pub.Model, t.pub.K)
	}
	return nil, addLists(ctx, b, rd, path)
}

// filesNamed describes a publication's files for messages.
func filesNamed(files []export.ManifestFile) string {
	if len(files) == 1 {
		return files[0].Name
	}
	return fmt.Sprintf("its %d part files", len(files))
}

// LoadTopKFile reads a top-k file (any toplist format) into an Index,
// checking ctx as it goes.
func LoadTopKFile(ctx context.Context, path string) (*Index, error) {
	rd, err := toplist.Open(path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return loadTopK(ctx, rd, path)
}

func loadTopK(ctx context.Context, rd *toplist.Reader, path string) (*Index, error) {
	hint := 0
	if n := rd.Len(); n > 0 {
		hint = int(n)
	}
	b := NewBuilder(rd.Meta(), hint)
	if err := addLists(ctx, b, rd, path); err != nil {
		return nil, err
	}
	return b.Build(), nil
}

// addLists adds every list of rd to b (a user already in b, from another
// part, is an error).
func addLists(ctx context.Context, b *Builder, rd *toplist.Reader, path string) error {
	for {
		l, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := b.Add(l); err != nil {
			return errs.Input(path, err)
		}
		if b.Len()%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
	}
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

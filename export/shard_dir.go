package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/recs-dev/recs/internal/atomicfile"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/toplist"
)

// publishPart writes shard s.Shard of publication s.Publication: its data
// files into Dir/Prefix/sharded-ID/ (each through a temporary file, synced
// and renamed), then its part record. It takes no lock: the shards of one
// publication write side by side, each to names of its own.
func (s *DirSink) publishPart(ctx context.Context, meta toplist.Meta, src ListSource) (Stats, error) {
	start := time.Now()
	c := countersOr(s.Progress)
	formats, err := checkFormats(s.Formats)
	if err != nil {
		return Stats{}, err
	}
	if err := CheckPublicationID(s.Publication); err != nil {
		return Stats{}, err
	}
	dir, err := joinPrefix(s.Dir, s.Prefix)
	if err != nil {
		return Stats{}, err
	}
	old, err := readDirManifest(filepath.Join(dir, ManifestName))
	if err != nil {
		return Stats{}, err
	}
	if err := checkNotPublished(old, s.Publication); err != nil {
		return Stats{}, err
	}
	gen := ShardedGeneration(s.Publication)
	genDir := filepath.Join(dir, gen)
	if err := os.MkdirAll(genDir, 0o755); err != nil {
		return Stats{}, err
	}
	p, err := writePart(ctx, meta, src, formats, s.Publication, s.Shard, fileDestIn(dir), c)
	if err == nil {
		err = atomicfile.SyncDir(dir)
	}
	if err != nil {
		return c.snapshot(start), err
	}
	b, err := p.encode()
	if err != nil {
		return c.snapshot(start), err
	}
	crashPoint("before part record")
	if err := atomicfile.WriteFile(filepath.Join(genDir, partRecordName(s.Shard)), func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}); err != nil {
		return c.snapshot(start), err
	}
	st := c.snapshot(start)
	st.Part = p
	return st, nil
}

// Finalize implements Finalizer: under the directory's publication lock,
// it composes the manifest of the n parts of publication id, switches it
// (a temporary file renamed over manifest.json) and cleans up as Publish
// does.
func (s *DirSink) Finalize(ctx context.Context, id string, n int) (Stats, error) {
	start := time.Now()
	c := countersOr(s.Progress)
	if err := CheckPublicationID(id); err != nil {
		return Stats{}, err
	}
	if n < 1 || n > toplist.MaxShards {
		return Stats{}, fmt.Errorf("export: finalize %d shards: want 1 to %d", n, toplist.MaxShards)
	}
	dir, err := joinPrefix(s.Dir, s.Prefix)
	if err != nil {
		return Stats{}, err
	}
	if _, err := os.Stat(dir); err != nil {
		return Stats{}, errs.Service("dir", &IncompleteError{Publication: id, Shards: n, Missing: allShards(n)})
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return Stats{}, err
	}
	defer unlock()
	manPath := filepath.Join(dir, ManifestName)
	old, err := readDirManifest(manPath)
	if err != nil {
		return Stats{}, err
	}
	gen := ShardedGeneration(id)
	if old != nil && old.Generation == gen {
		st := c.snapshot(start)
		st.Manifest = old
		return st, nil
	}
	if err := checkNotPublished(old, id); err != nil {
		return Stats{}, err
	}
	f, err := composeFinal(ctx, dirStore{dir}, "dir", id, n, old, s.KeepGenerations)
	if err != nil {
		return c.snapshot(start), err
	}
	m, b, kept := f.m, f.b, f.kept
	crashPoint("before manifest")
	if err := atomicfile.WriteFile(manPath, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}); err != nil {
		return c.snapshot(start), err
	}
	crashPoint("after manifest")
	c.Documents.Add(m.Users)
	c.Bytes.Add(int64(len(b)))
	st := c.snapshot(start)
	st.Bytes += f.verified
	st.Manifest = m
	st.Warnings = cleanDir(dir, kept, retired(old, kept), f.keepLegacy, start)
	if names, err := (dirStore{dir}).list(ctx, gen); err == nil {
		for _, name := range staleAttempts(m, names) {
			if err := os.Remove(filepath.Join(dir, filepath.FromSlash(name))); err != nil && !errors.Is(err, fs.ErrNotExist) {
				st.Warnings = append(st.Warnings, fmt.Sprintf("cleaning up %s: %v", name, err))
			}
		}
	}
	return st, nil
}

func allShards(n int) []int {
	v := make([]int, n)
	for i := range v {
		v[i] = i
	}
	return v
}

// dirStore is a publication directory as a partStore.
type dirStore struct{ dir string }

func (d dirStore) path(name string) string { return filepath.Join(d.dir, filepath.FromSlash(name)) }

func (d dirStore) readSmall(ctx context.Context, name string) ([]byte, error) {
	f, err := os.Open(d.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAllLimit(f, 1<<20)
}

func (d dirStore) hash(ctx context.Context, name string) (int64, string, error) {
	f, err := os.Open(d.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, "", errNotFound
	}
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w", name, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

func (d dirStore) list(ctx context.Context, folder string) ([]string, error) {
	ents, err := os.ReadDir(d.path(folder))
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/recs-dev/recs/internal/atomicfile"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/internal/lockfile"
	"github.com/recs-dev/recs/toplist"
)

// DirSink publishes into a local directory, Dir/Prefix, as an immutable
// generation: the data files go into a new folder GEN/ (see Manifest) no
// earlier publication used, each through a temporary file that is synced
// and renamed; then manifest.json, the only file ever replaced, is switched
// to the new generation by a rename; then the generations beyond the newest
// KeepGenerations (and leftovers of killed publications) are deleted. A
// reader that follows the manifest therefore always finds exactly the
// bytes it names, whenever the publisher is killed.
//
// One publication at a time: DirSink holds an flock(2) on
// Dir/Prefix/.recs-publish.lock while it runs (released by the kernel if
// the process dies), and another one fails at once.
type DirSink struct {
	Dir     string           // created if missing
	Prefix  string           // subdirectory of Dir for this run; "" for Dir itself
	Formats []toplist.Format // data files to write; empty: DefaultFormats
	// KeepGenerations is how many generations stay after a publication,
	// the new one included; 0: DefaultKeepGenerations.
	KeepGenerations int
	Progress        *Counters // optional live counters

	// Shard, when not zero, makes Publish write one shard's part of the
	// sharded publication Publication instead of a whole publication (see
	// Finalize and the package documentation).
	Shard       toplist.Shard
	Publication string
}

// lockName is the lock file of a publication directory.
const lockName = ".recs-publish.lock"

// Publish implements Sink.
func (s *DirSink) Publish(ctx context.Context, meta toplist.Meta, src ListSource) (Stats, error) {
	if !s.Shard.IsZero() {
		return s.publishPart(ctx, meta, src)
	}
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

	gen := newGenerationID(start)
	genDir := filepath.Join(dir, gen)
	if err := os.Mkdir(genDir, 0o755); err != nil {
		return Stats{}, err
	}
	m, err := writeFiles(ctx, meta, src, formats, gen, nil, fileDestIn(dir), c)
	if err == nil {
		// The folder's entry must be durable before a manifest names it.
		err = atomicfile.SyncDir(dir)
	}
	if err != nil {
		os.RemoveAll(genDir)
		return c.snapshot(start), err
	}
	kept, keepLegacy := retain(gen, old, s.KeepGenerations)
	m.Generations = kept
	m.PublishedAt = time.Now().UTC()
	b, err := m.encode()
	if err != nil {
		os.RemoveAll(genDir)
		return c.snapshot(start), err
	}
	crashPoint("before manifest")
	if err := atomicfile.WriteFile(manPath, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}); err != nil {
		os.RemoveAll(genDir)
		return c.snapshot(start), err
	}
	crashPoint("after manifest")
	c.Bytes.Add(int64(len(b)))
	st := c.snapshot(start)
	st.Manifest = m
	st.Warnings = cleanDir(dir, kept, retired(old, kept), keepLegacy, start)
	return st, nil
}

// readDirManifest reads the manifest a publication is about to replace:
// nil when there is none. Anything else at that name is refused rather
// than overwritten.
func readDirManifest(path string) (*Manifest, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := ReadManifest(io.LimitReader(f, 1<<20), path)
	if err != nil {
		return nil, errs.Inputf("", 0, "%v; refusing to publish over it (choose another directory or --prefix)", err)
	}
	return m, nil
}

// cleanDir deletes, after a manifest switch, the generation folders not in
// kept (a sharded one only when the replaced manifest named it, in
// retired, or when abandoned: unwritten since well before start), the data files of a pre-generation publication unless
// keepLegacy, and temporary files left by killed publications. Failures do
// not undo the publication: they are returned as warnings.
func cleanDir(dir string, kept, retired []string, keepLegacy bool, start time.Time) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return []string{fmt.Sprintf("cleaning up old generations: %v", err)}
	}
	var warn []string
	for _, e := range ents {
		name := e.Name()
		var remove bool
		switch {
		case isTimeGeneration(name):
			remove = e.IsDir() && !slices.Contains(kept, name)
		case isShardedGeneration(name):
			remove = e.IsDir() && !slices.Contains(kept, name) &&
				(slices.Contains(retired, name) || abandoned(newestWrite(filepath.Join(dir, name)), start))
		case isLegacyDataName(name):
			remove = !keepLegacy
		case strings.HasPrefix(name, "."+ManifestName+".tmp-"):
			remove = true // a manifest being written when its publisher died
		case strings.HasPrefix(name, ".toplist.") && strings.Contains(name, ".tmp-"):
			remove = true // a data file of a killed pre-generation publisher
		}
		if !remove {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			warn = append(warn, fmt.Sprintf("cleaning up %s: %v", name, err))
			continue
		}
		crashPoint("removed " + name)
	}
	return warn
}

// newestWrite returns the latest modification time of folder and the
// entries directly in it (a zero time if it cannot be read).
func newestWrite(folder string) time.Time {
	var t time.Time
	if fi, err := os.Stat(folder); err == nil {
		t = fi.ModTime()
	}
	ents, _ := os.ReadDir(folder)
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.ModTime().After(t) {
			t = fi.ModTime()
		}
	}
	return t
}

// lockDir takes the publication lock of dir without waiting.
func lockDir(dir string) (func(), error) {
	l, err := lockfile.TryLock(filepath.Join(dir, lockName))
	var held *lockfile.HeldError
	if errors.As(err, &held) {
		return nil, fmt.Errorf("%s: another publication into this directory is running (%s)", dir, held.Holder)
	}
	if err != nil {
		return nil, err
	}
	return func() { l.Unlock() }, nil
}

type fileDest struct{ f *atomicfile.File }

// fileDestIn returns the destinations of writeFiles and writePart for a
// directory: each file under its slash-separated name, written to a
// temporary file renamed into place on commit.
func fileDestIn(dir string) func(name string, _ toplist.Format) (dest, error) {
	return func(name string, _ toplist.Format) (dest, error) {
		f, err := atomicfile.Create(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return nil, err
		}
		return fileDest{f}, nil
	}
}

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

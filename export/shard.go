package export

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/toplist"
)

// Sharded publications.
//
// N jobs (a Kubernetes Indexed Job) publish one set of lists together:
// each writes the lists of its shard (toplist.ShardOf) as a part, and one
// Finalize switches the manifest to all N parts at once. The parts of one
// publication find each other by its publication id, which the job gives
// (--publication; the Job's name, or the model id with a date): they all
// write into the generation folder
//
//	PREFIX/sharded-ID/
//	    part-00001-of-00004-3f9a1c.parquet   data of shard 1 (one per format)
//	    part-00001-of-00004.json             its part record, written last
//
// which no manifest names until Finalize, so readers never see it. The six
// hex digits are random per attempt: a shard run again (a retried pod)
// writes new files and then replaces its part record, so no data file is
// ever rewritten and a file a manifest names never changes. A part record
// (PartRecord) names its files with their sizes and SHA-256.
//
// Finalize(N) reads the N part records, checks that they are of one model
// and k and that every file they name exists with its size and SHA-256
// (reading it whole), then writes the manifest (the files of every part,
// shard by shard, and "shards": N) exactly as an unsharded publication
// switches it: last, in one rename or one conditional upload. A part that
// is missing or does not verify fails the finalize with nothing switched
// (IncompleteError). Then generations beyond KeepGenerations are deleted
// as usual, and data files of superseded attempts in the new generation.
//
// Cleanup and pending parts: an unsharded publication or a finalize
// deletes a generation that is not kept, except a sharded one that
// changed after that publication started (a sharded publication still
// being written); an abandoned sharded generation goes at the first
// publication that starts after its last write.

// shardedPrefix starts the generation folder of a sharded publication.
const shardedPrefix = "sharded-"

var publicationRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// CheckPublicationID reports whether id can name a sharded publication:
// 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or a
// digit (a Kubernetes Job name is one).
func CheckPublicationID(id string) error {
	if !publicationRE.MatchString(id) {
		return fmt.Errorf("publication id %q: want 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit", id)
	}
	return nil
}

// ShardedGeneration returns the generation folder of publication id:
// "sharded-" + id.
func ShardedGeneration(id string) string { return shardedPrefix + id }

// isShardedGeneration reports whether name is a sharded publication's
// generation folder.
func isShardedGeneration(name string) bool {
	id, ok := strings.CutPrefix(name, shardedPrefix)
	return ok && publicationRE.MatchString(id)
}

// partRecordName returns the part record's name of shard s, e.g.
// "part-00001-of-00004.json".
func partRecordName(s toplist.Shard) string {
	return fmt.Sprintf("part-%05d-of-%05d.json", s.Index, s.Count)
}

// partDataName returns the name of one attempt's data file of shard s in
// format f, e.g. "part-00001-of-00004-3f9a1c.parquet".
func partDataName(s toplist.Shard, attempt string, f toplist.Format) string {
	return fmt.Sprintf("part-%05d-of-%05d-%s%s", s.Index, s.Count, attempt, f.Ext())
}

var partDataRE = regexp.MustCompile(`^part-[0-9]{5}-of-[0-9]{5}-[0-9a-f]{6}\.`)

func newAttemptID() string {
	var r [3]byte
	rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

// PartFormat is the "format" field of a part record.
const PartFormat = "recs-toplist-part"

// PartRecord describes the data files one shard wrote into a sharded
// publication's generation; Finalize reads it. File names are relative to
// the manifest, like a Manifest's.
type PartRecord struct {
	Format      string         `json:"format"`
	Version     int            `json:"version"`
	Publication string         `json:"publication"`
	Shard       int            `json:"shard"`
	Shards      int            `json:"shards"`
	Model       string         `json:"model"`
	K           int            `json:"k"`
	GeneratedAt time.Time      `json:"generatedAt"`
	WrittenAt   time.Time      `json:"writtenAt"`
	Users       int64          `json:"users"`
	Items       int64          `json:"items"`
	Files       []ManifestFile `json:"files"`
}

func (p *PartRecord) encode() ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	return append(b, '\n'), err
}

// IncompleteError is the error of a Finalize that found parts missing or
// not matching their records: nothing was switched. Run the shards it
// names (again), then finalize again.
type IncompleteError struct {
	Publication string
	Shards      int
	Missing     []int    // shards without a part record
	Bad         []string // files that are missing or differ from their record
	Other       []string // part records of another shard count, a hint
}

func (e *IncompleteError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "publication %s is not complete, nothing switched:", e.Publication)
	if len(e.Missing) > 0 {
		fmt.Fprintf(&b, " %d of %d shard parts missing (shards %s)", len(e.Missing), e.Shards, intList(e.Missing, 10))
	}
	if len(e.Bad) > 0 {
		if len(e.Missing) > 0 {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " %d files do not match their part records: %s", len(e.Bad), strings.Join(e.Bad[:min(len(e.Bad), 5)], "; "))
	}
	if len(e.Other) > 0 {
		fmt.Fprintf(&b, " (found parts of another shard count: %s)", strings.Join(e.Other[:min(len(e.Other), 3)], ", "))
	}
	b.WriteString("; run those shards again, then finalize")
	return b.String()
}

func intList(v []int, most int) string {
	s := make([]string, 0, most+1)
	for i, x := range v {
		if i == most {
			s = append(s, fmt.Sprintf("… %d more", len(v)-most))
			break
		}
		s = append(s, fmt.Sprint(x))
	}
	return strings.Join(s, ",")
}

// ShardSource yields the lists of src whose user belongs to shard s;
// Skipped counts the others.
type ShardSource struct {
	Src     ListSource
	Shard   toplist.Shard
	Skipped int64
}

// Next implements ListSource.
func (s *ShardSource) Next() (toplist.List, error) {
	for {
		l, err := s.Src.Next()
		if err != nil || s.Shard.Has(l.User) {
			return l, err
		}
		s.Skipped++
	}
}

// partStore is what composing a sharded manifest needs of a backend; names
// are relative to the publication (the manifest's directory or prefix).
type partStore interface {
	// readSmall returns the bytes of a small object (a part record), or
	// an error satisfying errors.Is(err, errNotFound).
	readSmall(ctx context.Context, name string) ([]byte, error)
	// hash reads an object whole: its size and lowercase hex SHA-256, or
	// errNotFound.
	hash(ctx context.Context, name string) (int64, string, error)
	// list returns the names of the objects directly in folder.
	list(ctx context.Context, folder string) ([]string, error)
}

var errNotFound = errors.New("not found")

// writePart streams the lists of shard s in src into one data file per
// format in the publication's generation, through open, and returns the
// part record to write after them.
func writePart(ctx context.Context, meta toplist.Meta, src ListSource, formats []toplist.Format, id string, s toplist.Shard,
	open func(name string, f toplist.Format) (dest, error), c *Counters) (*PartRecord, error) {
	gen := ShardedGeneration(id)
	attempt := newAttemptID()
	m, err := writeFiles(ctx, meta, &ShardSource{Src: src, Shard: s}, formats, gen, func(f toplist.Format) string {
		return gen + "/" + partDataName(s, attempt, f)
	}, open, c)
	if err != nil {
		return nil, err
	}
	return &PartRecord{Format: PartFormat, Version: 1, Publication: id, Shard: s.Index, Shards: s.Count,
		Model: meta.Model, K: meta.K, GeneratedAt: meta.GeneratedAt.UTC(), WrittenAt: time.Now().UTC(),
		Users: m.Users, Items: m.Items, Files: m.Files}, nil
}

// checkNotPublished refuses to write parts of, or finalize, a publication
// that the current manifest already names (data a reader may be reading
// is never touched). old may be nil.
func checkNotPublished(old *Manifest, id string) error {
	gen := ShardedGeneration(id)
	if old != nil && (old.Generation == gen || slices.Contains(old.Generations, gen)) {
		return errs.Inputf("", 0, "publication %s is already published (the manifest names %s/); give this publication a new --publication id", id, gen)
	}
	return nil
}

// finalManifest is what Finalize switches to: the manifest composed from
// the n parts of publication id (composeManifest), with its generations
// to keep (retain) and its encoded bytes. A missing or unverifiable part
// is a service error of kind (exit 4); verified counts the bytes checked.
type finalManifest struct {
	m          *Manifest
	b          []byte
	verified   int64
	kept       []string
	keepLegacy bool
}

func composeFinal(ctx context.Context, st partStore, kind, id string, n int, old *Manifest, keep int) (*finalManifest, error) {
	m, verified, err := composeManifest(ctx, st, id, n)
	var inc *IncompleteError
	if errors.As(err, &inc) {
		return nil, errs.Service(kind, err)
	}
	if err != nil {
		return nil, err
	}
	f := &finalManifest{m: m, verified: verified}
	f.kept, f.keepLegacy = retain(ShardedGeneration(id), old, keep)
	m.Generations = f.kept
	if f.b, err = m.encode(); err != nil {
		return nil, err
	}
	return f, nil
}

// composeManifest reads the n part records of publication id from st,
// checks them and every file they name, and returns the manifest naming
// all of them, or an *IncompleteError. The manifest's Generations are left
// to the caller.
func composeManifest(ctx context.Context, st partStore, id string, n int) (*Manifest, int64, error) {
	gen := ShardedGeneration(id)
	inc := &IncompleteError{Publication: id, Shards: n}
	parts := make([]*PartRecord, n)
	for i := range parts {
		s := toplist.Shard{Index: i, Count: n}
		name := gen + "/" + partRecordName(s)
		b, err := st.readSmall(ctx, name)
		if errors.Is(err, errNotFound) {
			inc.Missing = append(inc.Missing, i)
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		var p PartRecord
		if err := json.Unmarshal(b, &p); err != nil || p.Format != PartFormat || p.Version != 1 {
			return nil, 0, errs.Inputf(name, 0, "not a recs part record")
		}
		if p.Publication != id || p.Shard != i || p.Shards != n {
			return nil, 0, errs.Inputf(name, 0, "describes shard %d/%d of publication %q", p.Shard, p.Shards, p.Publication)
		}
		for _, f := range p.Files {
			if !validFileName(f.Name) || !strings.HasPrefix(f.Name, gen+"/") {
				return nil, 0, errs.Inputf(name, 0, "names %q, outside %s/", f.Name, gen)
			}
		}
		parts[i] = &p
	}
	if len(inc.Missing) > 0 {
		// A hint when the parts are there but for another N.
		if names, err := st.list(ctx, gen); err == nil {
			for _, nm := range names {
				if strings.HasSuffix(nm, ".json") && strings.HasPrefix(nm, "part-") && !strings.HasSuffix(nm, fmt.Sprintf("-of-%05d.json", n)) {
					inc.Other = append(inc.Other, nm)
				}
			}
		}
		return nil, 0, inc
	}
	first := parts[0]
	formats := func(p *PartRecord) []toplist.Format {
		var fs []toplist.Format
		for _, f := range p.Files {
			fs = append(fs, f.Format)
		}
		return fs
	}
	m := &Manifest{Format: ManifestFormat, Version: 1, Model: first.Model, K: first.K, GeneratedAt: first.GeneratedAt,
		Generation: gen, Shards: n, Publication: id}
	for i, p := range parts {
		if p.Model != first.Model || p.K != first.K {
			return nil, 0, errs.Inputf("", 0, "publication %s: shard %d holds lists of model %s, k %d; shard 0 of model %s, k %d: run every shard from the same model",
				id, i, p.Model, p.K, first.Model, first.K)
		}
		if !slices.Equal(formats(p), formats(first)) {
			return nil, 0, errs.Inputf("", 0, "publication %s: shard %d wrote formats %v, shard 0 %v: use the same --formats for every shard", id, i, formats(p), formats(first))
		}
		if p.GeneratedAt.Before(m.GeneratedAt) {
			m.GeneratedAt = p.GeneratedAt
		}
		m.Users += p.Users
		m.Items += p.Items
	}
	var verified int64
	for _, f := range formats(first) {
		for _, p := range parts {
			for _, pf := range p.Files {
				if pf.Format != f {
					continue
				}
				n, sum, err := st.hash(ctx, pf.Name)
				switch {
				case errors.Is(err, errNotFound):
					inc.Bad = append(inc.Bad, pf.Name+" is missing")
				case err != nil:
					return nil, 0, err
				case n != pf.Bytes || sum != pf.SHA256:
					inc.Bad = append(inc.Bad, fmt.Sprintf("%s has %d bytes, SHA-256 %.12s; its part record says %d, %.12s", pf.Name, n, sum, pf.Bytes, pf.SHA256))
				}
				verified += n
				m.Files = append(m.Files, pf)
			}
		}
		if n > 1 {
			m.Version = 2 // several files per format: readers of version 1 would see one shard
		}
	}
	if len(inc.Bad) > 0 {
		return nil, 0, inc
	}
	m.PublishedAt = time.Now().UTC()
	return m, verified, nil
}

// staleAttempts returns the data files in the generation's listing that
// the manifest does not name (attempts of a shard that were superseded).
func staleAttempts(m *Manifest, names []string) []string {
	named := map[string]bool{}
	for _, f := range m.Files {
		named[f.Name] = true
	}
	var stale []string
	for _, nm := range names {
		full := m.Generation + "/" + nm
		if partDataRE.MatchString(nm) && !named[full] {
			stale = append(stale, full)
		}
	}
	return stale
}

// readAllLimit reads at most limit bytes of r.
func readAllLimit(r io.Reader, limit int64) ([]byte, error) {
	var b bytes.Buffer
	_, err := io.Copy(&b, io.LimitReader(r, limit))
	return b.Bytes(), err
}

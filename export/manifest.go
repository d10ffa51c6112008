package export

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/recs-dev/recs/toplist"
)

// ManifestName is the name of the manifest in a published directory or
// blob prefix. It is the only object a publication replaces, and it is
// replaced last: it always names complete files.
const ManifestName = "manifest.json"

// DataName returns the base name of the data file of format f:
// "toplist.jsonl", "toplist.jsonl.gz" or "toplist.parquet". A publication
// writes it inside its generation folder (see Manifest).
func DataName(f toplist.Format) string { return "toplist" + f.Ext() }

// ManifestFormat is the "format" field of every manifest.
const ManifestFormat = "recs-toplist-manifest"

// Manifest describes a published set of files (version 1: one file per
// format; version 2: one per format and shard, see Shards).
//
//	{"format":"recs-toplist-manifest","version":1,"model":"als-2024","k":10,
//	 "generatedAt":"2024-05-01T02:00:00Z","publishedAt":"2024-05-01T02:03:10Z",
//	 "users":943,"items":9430,
//	 "generation":"20240501T020310.123Z-3f9a1c",
//	 "generations":["20240501T020310.123Z-3f9a1c","20240430T020255.870Z-0b41e7"],
//	 "files":[{"name":"20240501T020310.123Z-3f9a1c/toplist.parquet","format":"parquet","bytes":81234,"sha256":"9f2c…"}]}
//
// File names are relative to the manifest and use "/". Each publication
// writes its files into a generation folder no earlier publication used,
// then replaces the manifest; files are never rewritten in place, so a
// manifest and the bytes it names always belong together. Manifests written
// before generations existed (no "generation", files beside the manifest)
// read the same way.
type Manifest struct {
	Format      string    `json:"format"`
	Version     int       `json:"version"`
	Model       string    `json:"model"`
	K           int       `json:"k"`
	GeneratedAt time.Time `json:"generatedAt"`
	PublishedAt time.Time `json:"publishedAt"`
	Users       int64     `json:"users"` // lists (one per user)
	Items       int64     `json:"items"` // recommended items over all lists
	// Generation is the folder holding this publication's files ("" for a
	// publication made before generations existed).
	Generation string `json:"generation,omitempty"`
	// Generations are the generations kept beside the manifest after this
	// publication, newest first, this one included (--keep-generations).
	Generations []string `json:"generations,omitempty"`
	// Shards is the number of shard parts of a sharded publication
	// (`recs export --shard I/N`, then --finalize N): Files holds each
	// part's files, shard 0 first. 0 for an unsharded publication.
	Shards int `json:"shards,omitempty"`
	// Publication is the id the shards of a sharded publication shared.
	Publication string         `json:"publication,omitempty"`
	Files       []ManifestFile `json:"files"`
}

// ManifestFile is one data file of a publication.
type ManifestFile struct {
	Name   string         `json:"name"` // relative to the manifest, "/"-separated
	Format toplist.Format `json:"format"`
	Bytes  int64          `json:"bytes"`
	SHA256 string         `json:"sha256"` // lowercase hex of the file's bytes
}

// Meta returns the lists' description.
func (m *Manifest) Meta() toplist.Meta {
	return toplist.Meta{Model: m.Model, K: m.K, GeneratedAt: m.GeneratedAt}
}

// File returns the entry of format f, if the publication has exactly one
// file of that format (a sharded publication has one per shard: see
// Parts).
func (m *Manifest) File(f toplist.Format) (ManifestFile, bool) {
	if p := m.Parts(f); len(p) == 1 {
		return p[0], true
	}
	return ManifestFile{}, false
}

// Parts returns the files of format f, in the manifest's order (for a
// sharded publication, shard 0 first); together they hold every list of
// the publication once.
func (m *Manifest) Parts(f toplist.Format) []ManifestFile {
	var p []ManifestFile
	for _, mf := range m.Files {
		if mf.Format == f {
			p = append(p, mf)
		}
	}
	return p
}

// ReadPreference is the order in which readers pick a publication's
// format: Parquet, then gzipped, then plain JSON lines.
var ReadPreference = []toplist.Format{toplist.Parquet, toplist.JSONLGzip, toplist.JSONL}

// Readable returns the files of the first format of ReadPreference the
// publication has (one file, or one per shard); nil when it has none.
func (m *Manifest) Readable() []ManifestFile {
	for _, f := range ReadPreference {
		if p := m.Parts(f); len(p) > 0 {
			return p
		}
	}
	return nil
}

func (m *Manifest) encode() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ReadManifest parses a manifest; name is used in errors.
func ReadManifest(r io.Reader, name string) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(r)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: not a manifest: %v", name, err)
	}
	// Version 2 differs only in naming several files of one format (the
	// parts of a sharded publication), which a reader of version 1 would
	// take for the whole.
	if m.Format != ManifestFormat || (m.Version != 1 && m.Version != 2) {
		return nil, fmt.Errorf("%s: format %q version %d, want %q version 1 or 2", name, m.Format, m.Version, ManifestFormat)
	}
	for _, f := range m.Files {
		if !validFileName(f.Name) {
			return nil, fmt.Errorf("%s: file name %q is not a relative path inside the publication", name, f.Name)
		}
	}
	return &m, nil
}

// validFileName reports whether a manifest's file name stays inside the
// publication: relative, "/"-separated, without "." or ".." segments.
func validFileName(name string) bool {
	if name == "" || path.IsAbs(name) || strings.Contains(name, "\\") {
		return false
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

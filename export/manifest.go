package export

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/recs-dev/recs/toplist"
)

// ManifestName is the name of the manifest in a published directory or
// blob prefix. It is written last: its presence means the run is complete.
const ManifestName = "manifest.json"

// DataName returns the name of the data file of format f: "toplist.jsonl",
// "toplist.jsonl.gz" or "toplist.parquet".
func DataName(f toplist.Format) string { return "toplist" + f.Ext() }

const manifestFormat = "recs-toplist-manifest"

// Manifest describes a published set of files.
//
//	{"format":"recs-toplist-manifest","version":1,"model":"als-2024","k":10,
//	 "generatedAt":"2024-05-01T02:00:00Z","publishedAt":"2024-05-01T02:03:10Z",
//	 "users":943,"items":9430,
//	 "files":[{"name":"toplist.parquet","format":"parquet","bytes":81234,"sha256":"9f2c…"}]}
type Manifest struct {
	Format      string         `json:"format"`
	Version     int            `json:"version"`
	Model       string         `json:"model"`
	K           int            `json:"k"`
	GeneratedAt time.Time      `json:"generatedAt"`
	PublishedAt time.Time      `json:"publishedAt"`
	Users       int64          `json:"users"` // lists (one per user)
	Items       int64          `json:"items"` // recommended items over all lists
	Files       []ManifestFile `json:"files"`
}

// ManifestFile is one data file of a publication.
type ManifestFile struct {
	Name   string         `json:"name"` // relative to the manifest
	Format toplist.Format `json:"format"`
	Bytes  int64          `json:"bytes"`
	SHA256 string         `json:"sha256"` // lowercase hex of the file's bytes
}

// Meta returns the lists' description.
func (m *Manifest) Meta() toplist.Meta {
	return toplist.Meta{Model: m.Model, K: m.K, GeneratedAt: m.GeneratedAt}
}

// File returns the entry of format f, if the publication has one.
func (m *Manifest) File(f toplist.Format) (ManifestFile, bool) {
	for _, mf := range m.Files {
		if mf.Format == f {
			return mf, true
		}
	}
	return ManifestFile{}, false
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
	if m.Format != manifestFormat || m.Version != 1 {
		return nil, fmt.Errorf("%s: format %q version %d, want %q version 1", name, m.Format, m.Version, manifestFormat)
	}
	return &m, nil
}

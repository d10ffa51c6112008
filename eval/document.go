package eval

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/recs-dev/recs/internal/errs"
)

// Document format name and version, the first two fields of every metrics
// document.
const (
	FormatName    = "recs-metrics"
	FormatVersion = 1
)

// Document is a metrics document: what was measured, on what, how, and the
// values. Its JSON form (WriteJSON) is indented, has a fixed key order
// (struct fields in the order below; metrics in document order: rating
// metrics, then for each k ascending precision, recall, ndcg, map, map_at_k,
// coverage), holds no timestamps, and is therefore byte-identical for the
// same inputs and settings, and diffs line by line.
type Document struct {
	Format   string              `json:"format"`             // FormatName
	Version  int                 `json:"version"`            // FormatVersion
	Tool     string              `json:"tool,omitempty"`     // "recs <version>", filled by the caller
	Model    *ModelInfo          `json:"model,omitempty"`    // the model evaluated (absent for predictions)
	Inputs   map[string]FileHash `json:"inputs,omitempty"`   // "model", "train", "test", "predictions" (caller fills)
	Settings Settings            `json:"settings"`           // how the metrics were computed
	Counts   Counts              `json:"counts"`             // what they were computed over
	Warnings []string            `json:"warnings,omitempty"` // dropped rows and users, skipped metrics
	Metrics  Metrics             `json:"metrics"`            // keyed by Metric.Key
}

// ModelInfo identifies the model evaluated.
type ModelInfo struct {
	ID     string          `json:"id"`
	Params json.RawMessage `json:"params,omitempty"` // the fit's parameters as the model records them
}

// FileHash identifies an input file (or directory).
type FileHash struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256,omitempty"` // empty for standard input
	Bytes  int64  `json:"bytes,omitempty"`
}

// Settings are the options that shaped the metrics.
type Settings struct {
	K                  []int    `json:"k"`
	Metrics            []string `json:"metrics"`
	RelevanceThreshold *float64 `json:"relevanceThreshold"` // null: every test rating is relevant
	IncludeSeen        bool     `json:"includeSeen"`
	Candidates         string   `json:"candidates"` // what a user's ranking is drawn from
	Ties               string   `json:"ties"`       // how equal scores are ordered
}

// Counts say what the metrics were computed over.
type Counts struct {
	TestRows  int `json:"testRows"`
	TestUsers int `json:"testUsers"`
	TestItems int `json:"testItems"`
	TrainRows int `json:"trainRows"` // 0 when no training data was given

	// Cold start: test users or items that the model (the predictions)
	// do not know, and the test rows dropped from the rating metrics
	// because they have no prediction.
	ColdStartUsers int `json:"coldStartUsers"`
	ColdStartItems int `json:"coldStartItems"`
	ColdStartRows  int `json:"coldStartRows"`
	RatingRows     int `json:"ratingRows"` // test rows joined with a prediction: the n of rating metrics

	// Ranking.
	CatalogueItems     int `json:"catalogueItems"`     // items a list may hold: the coverage denominator
	ExcludedPairs      int `json:"excludedPairs"`      // training (user, item) pairs removed from the candidates
	BelowThresholdRows int `json:"belowThresholdRows"` // test rows not relevant under the threshold
	NoCandidateUsers   int `json:"noCandidateUsers"`   // known users left with an empty list (everything excluded)
	RankedUsers        int `json:"rankedUsers"`        // users in both truth and predictions: the n of ranking metrics
	RelevantItems      int `json:"relevantItems"`      // Σ relevant items over the ranked users
}

// Metrics is a list of metrics that marshals to a JSON object keyed by
// Metric.Key, in list order.
type Metrics []Metric

// Get returns the metric with the given key.
func (ms Metrics) Get(key string) (Metric, bool) {
	for _, m := range ms {
		if m.Key() == key {
			return m, true
		}
	}
	return Metric{}, false
}

// MarshalJSON writes the metrics as an object in list order.
func (ms Metrics) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.Key())
		v, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads the object form, in document order whatever the
// file's order; keys with an unknown name are kept (a newer recs may write
// metrics this one does not know).
func (ms *Metrics) UnmarshalJSON(b []byte) error {
	var raw map[string]Metric
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(Metrics, 0, len(raw))
	for key, m := range raw {
		name, _, _ := strings.Cut(key, "@")
		m.Name = name
		if m.Key() != key {
			return fmt.Errorf("metric %q: its k is %d", key, m.K)
		}
		out = append(out, m)
	}
	sortMetrics(out)
	*ms = out
	return nil
}

// sortMetrics puts metrics in document order: rating metrics, then by k,
// then by RankingMetrics order; unknown names last, by key.
func sortMetrics(ms Metrics) {
	order := func(name string) int {
		if i := slices.Index(RatingMetrics, name); i >= 0 {
			return i
		}
		if i := slices.Index(RankingMetrics, name); i >= 0 {
			return len(RatingMetrics) + i
		}
		return 1 << 20
	}
	sort.SliceStable(ms, func(a, b int) bool {
		oa, ob := order(ms[a].Name), order(ms[b].Name)
		ra, rb := oa < len(RatingMetrics), ob < len(RatingMetrics)
		if ra != rb {
			return ra
		}
		if ms[a].K != ms[b].K {
			return ms[a].K < ms[b].K
		}
		if oa != ob {
			return oa < ob
		}
		return ms[a].Key() < ms[b].Key()
	})
}

// WriteJSON writes d indented with two spaces and a final newline.
func (d *Document) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// ReadDocument parses a metrics document; name is used in errors.
func ReadDocument(r io.Reader, name string) (*Document, error) {
	dec := json.NewDecoder(r)
	var d Document
	if err := dec.Decode(&d); err != nil {
		return nil, errs.Input(name, fmt.Errorf("not a metrics document: %v", err))
	}
	if d.Format != FormatName {
		return nil, errs.Input(name, fmt.Errorf("format is %q, want %q (is this a file written by recs eval --json?)", d.Format, FormatName))
	}
	if d.Version != FormatVersion {
		return nil, errs.Input(name, fmt.Errorf("metrics document version %d is not supported (this recs reads version %d)", d.Version, FormatVersion))
	}
	return &d, nil
}

// ReadDocumentFile reads the metrics document at path.
func ReadDocumentFile(path string) (*Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errs.Input(path, err)
	}
	defer f.Close()
	return ReadDocument(f, path)
}

// HashPath returns the SHA-256 and size of a file, or of a directory tree
// (a model): then the hash is that of the sha256sum-style listing of its
// regular files in byte order of their slash-separated relative paths,
// "<hex>  <path>\n" per file, which
//
//	(cd DIR && find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum) | sha256sum
//
// reproduces; Bytes is then the total size of the files.
func HashPath(path string) (FileHash, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return FileHash{}, err
	}
	if !fi.IsDir() {
		sum, n, err := hashFile(path)
		return FileHash{Path: path, SHA256: sum, Bytes: n}, err
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(path, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return FileHash{}, err
	}
	if len(files) == 0 {
		return FileHash{}, errors.New("directory holds no files")
	}
	slices.Sort(files)
	h := sha256.New()
	var total int64
	for _, rel := range files {
		sum, n, err := hashFile(filepath.Join(path, filepath.FromSlash(rel)))
		if err != nil {
			return FileHash{}, err
		}
		total += n
		fmt.Fprintf(h, "%s  %s\n", sum, rel)
	}
	return FileHash{Path: path, SHA256: hex.EncodeToString(h.Sum(nil)), Bytes: total}, nil
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

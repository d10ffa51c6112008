// Package rundir describes the directory a `recs train` run writes: its
// file names and its manifest. The pipeline writes runs; the report, the
// server and later runs (as baselines) read them.
//
// Layout of ROOT/<id>/ where id is "<UTC time>-<short random>", e.g.
// 20261126T061500.123Z-3f9a1c:
//
//	config.yaml     the effective configuration
//	manifest.json   this package's Manifest (written last; a run without it is incomplete)
//	train.parquet   the training split (ratings table)
//	test.parquet    the test split
//	model/          the ALS model in Spark's ALSModel layout plus recs.json
//	metrics.json    the evaluation document at the configured k
//	curves.json     the evaluation document for k = 1..20 (for the report)
//	topk.parquet    every user's top-k
//	report.html     the report, when asked for
//
// ROOT/latest is a symbolic link to the newest successful run, replaced
// atomically (a new link renamed over the old one).
package rundir

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// File names inside a run directory.
const (
	ConfigFile   = "config.yaml"
	ManifestFile = "manifest.json"
	TrainFile    = "train.parquet"
	TestFile     = "test.parquet"
	ModelDir     = "model"
	MetricsFile  = "metrics.json"
	CurvesFile   = "curves.json"
	TopKFile     = "topk.parquet"
	ReportFile   = "report.html"
	LatestLink   = "latest"
)

// Manifest records what a run did. It is written last, atomically.
type Manifest struct {
	RunID       string    `json:"run_id"`
	ToolVersion string    `json:"tool_version"`
	Started     time.Time `json:"started"`
	Finished    time.Time `json:"finished"`
	Status      string    `json:"status"` // "ok", "regression", "failed", "interrupted"
	ExitCode    int       `json:"exit_code"`
	Error       string    `json:"error,omitempty"`

	Inputs    []Input           `json:"inputs"`
	Split     SplitInfo         `json:"split"`
	Params    json.RawMessage   `json:"params,omitempty"` // ALS parameters as the model records them
	Steps     []Step            `json:"steps"`
	Files     map[string]string `json:"files"` // role → path relative to the run dir
	Gate      *Gate             `json:"gate,omitempty"`
	Published *Publication      `json:"published,omitempty"`
	Tune      json.RawMessage   `json:"tune,omitempty"`
}

// Input is one input file or source.
type Input struct {
	Source string `json:"source"`
	SHA256 string `json:"sha256,omitempty"`
	Rows   int    `json:"rows"`
}

// SplitInfo records how the data was split and what came out.
type SplitInfo struct {
	Method    string    `json:"method"`
	By        string    `json:"by,omitempty"`
	Ratios    []float64 `json:"ratios"`
	Seed      int64     `json:"seed"`
	TrainRows int       `json:"train_rows"`
	TestRows  int       `json:"test_rows"`
	ColdUsers int       `json:"cold_users"`
	ColdItems int       `json:"cold_items"`
	ColdRows  int       `json:"cold_rows"`
}

// Step is the cost of one pipeline step.
type Step struct {
	Name      string  `json:"name"`
	WallS     float64 `json:"wall_s"`
	PeakRSSMB float64 `json:"peak_rss_mb"`
}

// Gate is the result of the quality gate.
type Gate struct {
	Baseline string   `json:"baseline"`
	Passed   bool     `json:"passed"`
	Failed   []string `json:"failed,omitempty"` // metrics beyond their allowance
}

// Publication records where the top-k went.
type Publication struct {
	Sink      string `json:"sink"`
	Target    string `json:"target"` // never contains secrets
	Documents int64  `json:"documents"`
}

// ReadManifest reads DIR/manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestFile), err)
	}
	return &m, nil
}

// Path returns the path of role's file in run directory dir, from the
// manifest's Files map when it names one, else the default name.
func (m *Manifest) Path(dir, role, def string) string {
	if m != nil && m.Files != nil {
		if p, ok := m.Files[role]; ok {
			return filepath.Join(dir, p)
		}
	}
	return filepath.Join(dir, def)
}

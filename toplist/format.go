package toplist

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Format is a file format of lists.
type Format string

// The formats, named by their file extensions.
const (
	JSONL     Format = "jsonl"
	JSONLGzip Format = "jsonl.gz"
	Parquet   Format = "parquet"
)

// Formats lists every format.
var Formats = []Format{JSONL, JSONLGzip, Parquet}

// Ext returns the file extension of f, with its leading dot.
func (f Format) Ext() string { return "." + string(f) }

// ParseFormat returns the format named s ("jsonl", "jsonl.gz", "parquet").
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown list format %q (want jsonl, jsonl.gz or parquet)", s)
}

// FormatOf returns the format of path from its extension.
func FormatOf(path string) (Format, error) {
	lower := strings.ToLower(path)
	switch {
	case strings.HasSuffix(lower, ".jsonl.gz"):
		return JSONLGzip, nil
	case strings.HasSuffix(lower, ".jsonl"):
		return JSONL, nil
	case strings.HasSuffix(lower, ".parquet"):
		return Parquet, nil
	}
	return "", fmt.Errorf("%s: cannot tell the list format from the name (want .jsonl, .jsonl.gz or .parquet)", path)
}

// Header names of the format in files.
const (
	formatName    = "recs-toplist"
	formatVersion = 1
	// ParquetMetaKey is the Parquet key-value metadata key of the header.
	ParquetMetaKey = "recs.toplist"
)

// header is the first line of a JSON lines file and the Parquet metadata
// value.
type header struct {
	Format      string    `json:"format"`
	Version     int       `json:"version"`
	Model       string    `json:"model"`
	K           int       `json:"k"`
	GeneratedAt time.Time `json:"generatedAt"`
}

func encodeHeader(m Meta) ([]byte, error) {
	return json.Marshal(header{Format: formatName, Version: formatVersion,
		Model: m.Model, K: m.K, GeneratedAt: m.GeneratedAt.UTC()})
}

// decodeHeader parses a header; the error does not name the file.
func decodeHeader(b []byte) (Meta, error) {
	var h header
	if err := json.Unmarshal(b, &h); err != nil {
		return Meta{}, fmt.Errorf("header is not a JSON object: %v", err)
	}
	if h.Format != formatName {
		return Meta{}, fmt.Errorf("header format is %q, want %q (is this a recs top-k file?)", h.Format, formatName)
	}
	if h.Version != formatVersion {
		return Meta{}, fmt.Errorf("header version %d is not supported (this recs reads version %d)", h.Version, formatVersion)
	}
	m := Meta{Model: h.Model, K: h.K, GeneratedAt: h.GeneratedAt}
	if err := m.Validate(); err != nil {
		return Meta{}, fmt.Errorf("header: %v", err)
	}
	return m, nil
}

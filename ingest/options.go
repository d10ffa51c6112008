package ingest

import (
	"fmt"
	"io"
)

// Format names an input format.
type Format string

// Input formats. FormatAuto detects the format from the content.
const (
	FormatAuto      Format = ""
	FormatUData     Format = "udata"     // MovieLens 100k u.data: tab separated, no header
	FormatDat       Format = "dat"       // MovieLens 1M/10M ratings.dat: "::" separated, no header
	FormatCSV       Format = "csv"       // comma separated, header userId,movieId,rating,timestamp
	FormatDelimited Format = "delimited" // any separator (Options.Sep), header optional
	FormatParquet   Format = "parquet"   // a table written by ratings.WriteFile
)

// Formats lists the formats accepted by ParseFormat, for help texts.
var Formats = []Format{FormatUData, FormatDat, FormatCSV, FormatDelimited, FormatParquet}

// ParseFormat returns the format named s ("auto" or "" for FormatAuto).
func ParseFormat(s string) (Format, error) {
	switch s {
	case "", "auto":
		return FormatAuto, nil
	case "u.data":
		return FormatUData, nil
	case "ratings.dat":
		return FormatDat, nil
	}
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown format %q (want auto, udata, dat, csv, delimited or parquet)", s)
}

// Header says whether delimited text starts with a header line.
type Header int

// Header modes. HeaderAuto treats the first line as a header when its
// rating column is not a number.
const (
	HeaderAuto Header = iota
	HeaderYes
	HeaderNo
)

// Dedupe says what to do with several ratings of the same (user, item).
type Dedupe string

// Dedupe policies. The zero value means DedupeLast.
const (
	// DedupeLast keeps the latest rating by timestamp; equal timestamps (or
	// no timestamps) keep the one on the later line.
	DedupeLast Dedupe = "last"
	// DedupeFirst keeps the earliest rating by timestamp; equal timestamps
	// (or no timestamps) keep the one on the earlier line.
	DedupeFirst Dedupe = "first"
	// DedupeMean keeps one row per pair, the row DedupeLast would keep, with
	// the mean of the pair's ratings (computed in float64).
	DedupeMean Dedupe = "mean"
	// DedupeError fails on the first duplicate, naming both lines.
	DedupeError Dedupe = "error"
)

// ParseDedupe returns the policy named s ("" for DedupeLast).
func ParseDedupe(s string) (Dedupe, error) {
	switch Dedupe(s) {
	case "", DedupeLast:
		return DedupeLast, nil
	case DedupeFirst, DedupeMean, DedupeError:
		return Dedupe(s), nil
	}
	return "", fmt.Errorf("unknown dedupe policy %q (want last, first, mean or error)", s)
}

// NoColumn, as Options.TimeCol, says that the input has no timestamps.
const NoColumn = "none"

// Progress receives the advance of a read in bytes. *progress.Reporter
// implements it.
type Progress interface {
	// SetTotal is called once per Read with the number of bytes expected,
	// unless that is unknown (standard input).
	SetTotal(n int64)
	// Add is called with bytes read since the previous call.
	Add(n int64)
}

// Options control Read. The zero value detects everything and keeps the
// latest of duplicate ratings.
type Options struct {
	// Format forces the input format; FormatAuto detects it from the
	// content of each source.
	Format Format
	// Sep is the field separator of delimited text (one or more bytes,
	// e.g. "\t", ",", "::"). Empty: detected (or implied by Format).
	Sep string
	// Header says whether delimited text has a header line.
	Header Header
	// UserCol, ItemCol, RatingCol and TimeCol map the columns: a header
	// name, or a 0-based index. Empty: well-known names from the header
	// (userId, movieId, itemId, rating, timestamp, ...), or columns 0, 1,
	// 2 and 3 without a header (3 only when the line has 4 fields and no
	// other column was given). TimeCol NoColumn: no timestamps.
	UserCol, ItemCol, RatingCol, TimeCol string

	// SkipBad skips bad lines instead of failing; the Report counts them
	// and keeps the first few reasons.
	SkipBad bool
	// MaxBad, with SkipBad, fails once more than MaxBad lines were bad.
	// 0 means no limit.
	MaxBad int64

	// Dedupe resolves duplicate (user, item) pairs (default DedupeLast).
	Dedupe Dedupe

	// Stdin is read for the source "-" (nil: os.Stdin).
	Stdin io.Reader
	// Blob says how sources that are Blob Storage URLs are reached (the
	// zero value takes credentials from the environment; see OpenBlob).
	Blob BlobOptions
	// Progress, if not nil, receives bytes read.
	Progress Progress
	// Workers is the number of parsing goroutines (0: GOMAXPROCS). The
	// result does not depend on it.
	Workers int
}

// MaxReasons is how many bad-line reasons a Report keeps.
const MaxReasons = 5

// SourceReport describes one source of a Read.
type SourceReport struct {
	Name    string // as given, with the archive member for zip files ("a.zip/ml-100k/u.data")
	Format  Format // the format used
	Sep     string // the separator used (text formats)
	Header  bool   // whether a header line was read
	Rows    int64  // rows read (before dedupe)
	Skipped int64  // bad lines skipped
}

// Report says what a Read did.
type Report struct {
	Sources []SourceReport
	// RowsRead counts rows read from all sources, before dedupe.
	RowsRead int64
	// Skipped counts bad lines skipped (Options.SkipBad).
	Skipped int64
	// Reasons holds the first MaxReasons bad-line errors, "file:line: problem".
	Reasons []string
	// Duplicates counts rows removed by dedupe.
	Duplicates int64
	// Rows is the number of rows of the resulting table.
	Rows int64
}

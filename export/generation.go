package export

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"slices"
	"time"

	"github.com/recs-dev/recs/toplist"
)

// DefaultKeepGenerations is how many generations DirSink and BlobSink keep
// when their KeepGenerations is 0: the one just published and the one
// before it, so that a reader that read the previous manifest a moment
// before the switch can still read the files it names.
const DefaultKeepGenerations = 2

// newGenerationID returns the name of a new generation folder: the UTC
// time to the millisecond and 24 random bits, e.g.
// 20240501T020310.123Z-3f9a1c. Names sort by time, and no two
// publications share one.
func newGenerationID(now time.Time) string {
	var r [3]byte
	rand.Read(r[:])
	return now.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(r[:])
}

var generationRE = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}\.[0-9]{3}Z-[0-9a-f]{6}$`)

// isGenerationID reports whether name is a generation folder's name: an
// unsharded publication's (isTimeGeneration) or a sharded one's
// (ShardedGeneration).
func isGenerationID(name string) bool { return isTimeGeneration(name) || isShardedGeneration(name) }

// isTimeGeneration reports whether name is a generation named by
// newGenerationID.
func isTimeGeneration(name string) bool { return generationRE.MatchString(name) }

// generationStamp is the time part of the generation names of publications
// that started at or after t: a time-named generation that sorts before it
// was started before t.
func generationStamp(t time.Time) string { return t.UTC().Format("20060102T150405.000Z") }

// pendingMargin is how long a sharded generation that no manifest keeps
// must have been left unwritten before a publication's cleanup deletes it:
// its shards may still be writing (their writes are compared with the
// publication's start, allowing this much clock difference between the
// machines and Blob Storage, whose times have one-second steps).
var pendingMargin = 10 * time.Minute

// abandoned reports whether a sharded generation whose newest write is at
// newest may be deleted by a publication that started at start.
func abandoned(newest, start time.Time) bool { return newest.Before(start.Add(-pendingMargin)) }

// retain returns the generations to keep after gen replaces the
// publication described by old (nil when there was none): gen and the
// newest keep-1 of those old kept, newest first. legacy reports whether
// the files of a publication made before generations existed (data files
// beside the manifest) are still to be kept: only while the manifest being
// replaced is such a publication and keep allows one previous generation.
func retain(gen string, old *Manifest, keep int) (kept []string, legacy bool) {
	if keep < 1 {
		keep = DefaultKeepGenerations
	}
	kept = []string{gen}
	if old == nil {
		return kept, false
	}
	if old.Generation == "" {
		return kept, keep >= 2
	}
	prev := old.Generations
	if len(prev) == 0 || prev[0] != old.Generation {
		prev = append([]string{old.Generation}, prev...)
	}
	for _, g := range prev {
		if len(kept) >= keep {
			break
		}
		if isGenerationID(g) && !slices.Contains(kept, g) {
			kept = append(kept, g)
		}
	}
	return kept, false
}

// retired returns the generations that old (nil: none) named and that are
// not in kept: published ones that this publication rotated out, deleted
// at once even if sharded and recently written.
func retired(old *Manifest, kept []string) []string {
	if old == nil {
		return nil
	}
	var r []string
	for _, g := range append([]string{old.Generation}, old.Generations...) {
		if g != "" && !slices.Contains(kept, g) && !slices.Contains(r, g) {
			r = append(r, g)
		}
	}
	return r
}

// isLegacyDataName reports whether name is a data file of a publication
// made before generations existed (toplist.* beside the manifest).
func isLegacyDataName(name string) bool {
	for _, f := range []toplist.Format{toplist.JSONL, toplist.JSONLGzip, toplist.Parquet} {
		if name == DataName(f) {
			return true
		}
	}
	return false
}

// crashHook, when set (by tests only), is called at the named moments of a
// publication; the crash-consistency tests kill the process there.
var crashHook func(point string)

func crashPoint(point string) {
	if crashHook != nil {
		crashHook(point)
	}
}

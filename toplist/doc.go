// Package toplist holds precomputed recommendation lists (each user's top k
// items with scores, in rank order) and their files: JSON lines, gzipped JSON
// lines and Parquet. The format follows from the file name's extension
// (.jsonl, .jsonl.gz, .parquet); see FormatOf.
//
// # JSON lines (.jsonl, .jsonl.gz)
//
// The first line is a header object that names the format and carries the
// Meta; every further line is one user's list, best item first:
//
//	{"format":"recs-toplist","version":1,"model":"als-2024","k":3,"generatedAt":"2024-05-01T02:00:00Z"}
//	{"user":"196","items":[{"id":"242","score":4.61},{"id":"302","score":4.55},{"id":"377","score":4.2}]}
//	{"user":"186","items":[{"id":"302","score":4.9},{"id":"50","score":4.8}]}
//
// Scores are float32 written with the fewest digits that read back to the
// same value. Unknown fields are ignored, so later versions may add some.
// A .jsonl.gz file is the same text compressed with gzip.
//
// # Parquet (.parquet)
//
// One row per user with the columns
//
//	user   string         not null
//	items  list<string>   not null, best first
//	scores list<float32>  not null, parallel to items
//
// and the header object above (without the per-user lines) in the file's
// key-value metadata under the key "recs.toplist". Files are written with
// Snappy compression and dictionary-encoded strings.
//
// # Checks
//
// Readers reject, naming the file and line (JSON lines) or row (Parquet): a
// missing or foreign header, malformed JSON, an empty user or item id, a
// repeated item within a list, a score that is not finite, more than k items,
// and a user that appears twice in the file. These errors are
// *errdefs.InputError.
//
// Writers of files (WriteFile) are atomic: the file appears complete or not
// at all. The streaming Writer writes to any io.Writer and leaves atomicity
// to its caller.
package toplist

// Package ingest reads ratings from text files and archives into a
// *ratings.Table.
//
// Supported inputs, detected from the content (or forced with
// Options.Format):
//
//   - MovieLens 100k u.data: user, item, rating, timestamp separated by tabs,
//     no header;
//   - MovieLens 1M/10M ratings.dat: the same separated by "::";
//   - header CSV as in MovieLens 20M/25M/32M/latest
//     (userId,movieId,rating,timestamp), LF or CRLF line ends;
//   - generic delimited text with any separator, with or without a header,
//     columns mapped by name or 0-based index, timestamp optional;
//   - Parquet files written by ratings.WriteFile.
//
// Any text input may be gzip-compressed; MovieLens .zip archives are read
// directly (the ratings file inside is found by name); "-" is standard input.
// MovieLensPath downloads and caches the GroupLens archives.
//
// Ids are kept exactly as written. Parsing is hand-written and runs on all
// cores over chunks of the input; canonical decimal ids (the MovieLens case)
// are mapped to dense indices through an array instead of a string hash.
// Bad lines fail with an *errdefs.InputError naming the file, the line and the
// problem, or are skipped and counted (Options.SkipBad). Duplicate
// (user, item) pairs are resolved by Options.Dedupe. A download or a Blob
// read that still fails after retries returns an *errdefs.ServiceError.
//
// LoadTable is the one way every command loads a ratings file.
package ingest

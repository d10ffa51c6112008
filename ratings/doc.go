// Package ratings holds the table of (user, item, rating, timestamp) rows
// that every step of recs shares: ingest builds it, split cuts it, als fits
// it, eval scores against it.
//
// Ids are kept exactly as the user wrote them (strings; MovieLens ids are
// decimal integers, other data sets use opaque strings) and mapped to dense
// indices 0..n-1 in order of first appearance. Ratings are float32 and
// timestamps int64 (Unix seconds; zero when the source had none).
//
// Compressed sparse row views by user and by item are built on demand and
// cached; a Table must not be modified after a view has been requested.
//
// ReadFile and ReadParquet return an *errdefs.InputError naming the file
// for content they cannot use.
package ratings

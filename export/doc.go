// Package export publishes precomputed top-k lists (package toplist) to
// where an API can read them: Azure Cosmos DB (one document per user),
// Azure Blob Storage and a local directory (JSON lines, gzipped JSON lines
// and Parquet files plus a manifest.json).
//
// Every backend implements Sink. Publication never leaves half a result
// where a reader would take it for a whole one:
//
//   - DirSink and BlobSink write each publication as an immutable
//     generation: data files under a folder name no earlier publication
//     used (files through a temporary name, synced and renamed; blobs
//     staged as blocks and committed only when complete), then switch
//     manifest.json, the only object ever replaced, in one rename or one
//     upload, then delete generations beyond KeepGenerations. A reader
//     that follows the manifest gets exactly the bytes it names, whenever
//     the publisher dies (export/crash_test.go kills it at every step).
//   - Sharded publications (see shard.go): N jobs each write the lists of
//     one shard of the users (toplist.ShardOf) as a part into a pending
//     generation sharded-ID/ that no manifest names; Finalize checks that
//     all N parts exist and match their records (sizes, SHA-256) and only
//     then switches the manifest to all of them at once.
//   - CosmosSink upserts one document per user (idempotent by id), so a
//     re-run after a crash is safe, and keeps a small checkpoint so that
//     Resume skips what an interrupted run of the same model already wrote.
//
// CosmosSink runs its writes with bounded, adaptive concurrency: an AIMD
// window (add one slot per window of successes, halve on 429) with a shared
// pause honouring x-ms-retry-after-ms / Retry-After, so a provisioned RU
// budget is used fully without failing. Transient failures (408, 449, 5xx,
// connection resets, timeouts) are retried with exponential backoff and full
// jitter. The SDK's own retries are turned off for the data path so that
// every retry is counted and paced by one policy.
//
// Secrets (Cosmos keys, storage account keys, SAS tokens) never appear in
// errors or logs produced here: errors are scrubbed before they are
// returned.
package export

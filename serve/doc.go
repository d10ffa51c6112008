// Package serve is the real-time recommendation API behind `recs serve`:
// an HTTP server that answers each user's precomputed top-k.
//
// Lists come from a Store. The in-memory Index holds every user's response
// pre-encoded as JSON in one pointer-free arena, so a lookup is a hash probe
// and two writes, with no allocation and nothing for the garbage collector
// to scan; a smaller ?k= is answered by cutting the encoded list at a stored
// offset. Indexes are built from run directories, top-k files or a Blob
// Storage manifest, and a Reloader polls the source and swaps a new Index in
// atomically (requests load the current one once, so none sees a mix). The
// CosmosStore instead reads each user's document from Azure Cosmos DB by
// point read, behind a bounded LRU cache with a time to live.
//
// Server wires a Store into HTTP: routing, validation, limits, the popular
// fallback for unknown users, Prometheus metrics, health and readiness,
// the OpenAPI document and graceful shutdown. The API is described in
// README.md and served at /openapi.json.
package serve

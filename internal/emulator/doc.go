// Package emulator starts the local Azure emulators that recs tests talk
// to: Azurite (Blob Storage) and @vercel/cosmosdb-server (Cosmos DB's NoSQL
// API), both installed by `make emulator-deps` from the committed
// package-lock in testdata/emulators, and Debian's redis-server (Azure
// Cache for Redis speaks the same protocol), installed by
// scripts/test-deps.sh (`make test-deps`).
//
// Tests call Azurite(t), Cosmos(t) or Redis(t). The first call in a test binary
// starts the emulator on a free port of 127.0.0.1; later calls share it. The
// emulator's stdin is a pipe held by the test binary, so it exits when the
// binary does, however that happens. Emulators keep their data in memory:
// tests that share one must use their own container or database names.
//
// When the emulators are not installed (testdata/emulators/node_modules is
// missing, or node is not on PATH) the test is skipped, unless the CI
// environment variable is set (testenv.InCI), in which case it fails: CI
// never passes silently without the emulators.
package emulator

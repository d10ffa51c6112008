#!/usr/bin/env bash
# Benchmark of `recs serve` (make bench-serve): an ML-20M-sized index
# (138,493 users × top-10) served by bin/recs and by a minimal net/http
# map-of-bytes server in the same run — saturation with 200 connections and
# the ratio, open-loop latency at 10,000 requests/s — then the Cosmos DB
# source against the local emulator, without and with the cache.
# Localhost only; about two minutes. Extra arguments go to benchserve
# (e.g. --rounds 5, --duration 10s, --cosmos=false); see
# internal/bench/serve/main.go.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x bin/recs ] || go build -trimpath -o bin/recs ./cmd/recs
mkdir -p bin
go build -trimpath -o bin/benchserve ./internal/bench/serve
exec bin/benchserve run --recs bin/recs --emulators testdata/emulators "$@"

#!/usr/bin/env bash
# bench-export: recs export of USERS user documents (default 1,000,000, top
# 10 each) to the local Cosmos DB emulator (@vercel/cosmosdb-server) and to
# Azurite and to a local redis-server (twice: a first publication, then one
# that replaces it and deletes the old generation), with a local directory
# export as the reference measured in the
# same run. Prints documents/s and MB/s (10^6 bytes of document bodies or
# blob contents per second) for each, and each sink's ratio to the
# directory export.
#
# The emulators are single Node.js processes on the same 2 cores as recs:
# their numbers bound what recs can push through a local emulator, not what
# a provisioned Cosmos DB account (RU/s) or a storage account accepts.
# cosmosdb-server never throttles, so this measures the write path, not the
# AIMD window; the fault-injection tests in export/ cover that.
#
# Usage: scripts/bench-export.sh    (make bench-export builds bin/recs and
#                                     installs the emulators first)
# Env:   USERS (default 1000000), BENCH_DIR (default /tmp/recs-bench-export),
#        CONCURRENCY (Cosmos writes in flight, default 32), RECS (default
#        bin/recs), NODE_HEAP_MB (emulator heap, default 8192).
set -euo pipefail
cd "$(dirname "$0")/.."

RECS=${RECS:-bin/recs}
USERS=${USERS:-1000000}
BENCH_DIR=${BENCH_DIR:-/tmp/recs-bench-export}
CONCURRENCY=${CONCURRENCY:-32}
NODE_HEAP_MB=${NODE_HEAP_MB:-8192}
EMU=testdata/emulators
# The emulators' published well-known keys (not secrets).
COSMOS_KEY='C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=='
AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

[ -x "$RECS" ] || { echo "bench-export: $RECS missing; run 'make build'" >&2; exit 1; }
[ -d "$EMU/node_modules" ] || { echo "bench-export: emulators missing; run 'make emulator-deps'" >&2; exit 1; }
mkdir -p "$BENCH_DIR"
TOPK=$BENCH_DIR/top10-$USERS.jsonl

# A deterministic top-10 file: ten distinct items per user (the item step
# 22895 is coprime with the 27278-item catalogue), decreasing scores.
if [ ! -s "$TOPK" ]; then
	echo "generating $TOPK ..."
	awk -v n="$USERS" 'BEGIN {
		print "{\"format\":\"recs-toplist\",\"version\":1,\"model\":\"als-bench000000000\",\"k\":10,\"generatedAt\":\"2024-05-01T02:00:00Z\"}"
		for (u = 1; u <= n; u++) {
			line = "{\"user\":\"" u "\",\"items\":["
			for (j = 0; j < 10; j++) {
				item = (u * 7919 + j * 22895) % 27278 + 1
				score = 5 - j * 0.125 - (u % 97) / 1024
				line = line (j ? "," : "") "{\"id\":\"" item "\",\"score\":" score "}"
			}
			print line "]}"
		}
	}' > "$TOPK.tmp"
	mv "$TOPK.tmp" "$TOPK"
fi

PIDS=()
cleanup() {
	for fd in 7 8; do eval "exec $fd>&-" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [ -n "${REDIS_PID:-}" ]; then kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null || true; fi
	rm -rf "$BENCH_DIR/fifo-"* "$BENCH_DIR/dir-out"
}
trap cleanup EXIT

# start_emulator NAME SCRIPT FD: starts node SCRIPT with its stdin on a FIFO
# held open on FD (closing FD stops the emulator) and sets URL from its
# ready line.
start_emulator() {
	local name=$1 script=$2 fd=$3 fifo=$BENCH_DIR/fifo-$1 log=$BENCH_DIR/$1.log
	rm -f "$fifo"; mkfifo "$fifo"
	(cd "$EMU" && exec node --max-old-space-size="$NODE_HEAP_MB" "$script" 0 < "$fifo" > "$log" 2>&1) &
	PIDS+=($!)
	eval "exec $fd>$fifo"
	URL=""
	for _ in $(seq 1 600); do
		URL=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$log" | head -n 1 || true)
		[ -n "$URL" ] && break
		sleep 0.1
	done
	[ -n "$URL" ] || { echo "bench-export: $name did not start:" >&2; cat "$log" >&2; exit 1; }
}

# start_redis: starts Debian's redis-server on a free port of 127.0.0.1
# (nothing on disk, no password: loopback only) and sets REDIS_URL.
start_redis() {
	command -v redis-server >/dev/null || { echo "bench-export: redis-server missing; run 'make test-deps'" >&2; exit 1; }
	local port log=$BENCH_DIR/redis.log
	for port in $(seq 16379 16479); do
		redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --daemonize no > "$log" 2>&1 &
		REDIS_PID=$!
		for _ in $(seq 1 200); do
			if grep -q "Ready to accept connections" "$log"; then REDIS_URL=redis://127.0.0.1:$port/0; return; fi
			kill -0 "$REDIS_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null || true; REDIS_PID=
	done
	echo "bench-export: redis-server did not start:" >&2; cat "$log" >&2; exit 1
}

# export_timed NAME ARGS...: runs recs export --json, sets DOCS, MB, SECS,
# DPS, MBPS.
export_timed() {
	local name=$1; shift
	local out err
	out=$(mktemp); err=$(mktemp)
	"$RECS" --quiet export "$TOPK" "$@" --json > "$out" 2> "$err" || {
		echo "bench-export: recs export to $name failed:" >&2; cat "$err" >&2; exit 1; }
	read -r DOCS BYTES SECS < <(sed -E 's/.*"documents":([0-9]+).*"bytes":([0-9]+),"seconds":([0-9.e+-]+).*/\1 \2 \3/' "$out")
	DPS=$(awk -v d="$DOCS" -v s="$SECS" 'BEGIN { printf "%.0f", d / s }')
	MBPS=$(awk -v b="$BYTES" -v s="$SECS" 'BEGIN { printf "%.2f", b / 1e6 / s }')
	MB=$(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1e6 }')
	printf '%-34s %9d docs %8s MB %8.1f s %9s docs/s %8s MB/s\n' "$name" "$DOCS" "$MB" "$SECS" "$DPS" "$MBPS"
	rm -f "$out" "$err"
}

echo "recs export of $USERS users (top 10), 2 cores, $(nproc) visible; $(date -u +%FT%TZ)"

rm -rf "$BENCH_DIR/dir-out"
export_timed "dir (jsonl + parquet, reference)" --to dir --dir "$BENCH_DIR/dir-out"
REF_DPS=$DPS

start_emulator azurite azurite.js 7
AZ_URL=$URL
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZ_KEY;BlobEndpoint=$AZ_URL/devstoreaccount1;"
export_timed "azurite blob (jsonl + parquet)" --to blob --blob-container bench --prefix run-1
BLOB_DPS=$DPS
exec 7>&-

start_emulator cosmos cosmos.js 8
export RECS_COSMOS_ENDPOINT=$URL/ RECS_COSMOS_KEY=$COSMOS_KEY
export_timed "cosmosdb-server (full, c=$CONCURRENCY)" --to cosmos --concurrency "$CONCURRENCY" --checkpoint "$BENCH_DIR/ck.json"
COSMOS_DPS=$DPS
exec 8>&-

start_redis
export_timed "redis-server (full, pipelined)" --to redis --redis-url "$REDIS_URL" --redis-prefix bench
REDIS_DPS=$DPS
export_timed "redis-server (replace + delete old)" --to redis --redis-url "$REDIS_URL" --redis-prefix bench
REDIS2_DPS=$DPS

awk -v r="$REF_DPS" -v b="$BLOB_DPS" -v c="$COSMOS_DPS" -v d="$REDIS_DPS" -v e="$REDIS2_DPS" 'BEGIN {
	printf "ratio to the directory export: azurite blob %.2f×, cosmosdb-server %.3f×, redis-server %.2f× (replacing: %.2f×)\n", b / r, c / r, d / r, e / r
	printf "bar: redis-server ≥ 100,000 docs/s: %.0f docs/s, %s\n", d, (d >= 100000 ? "ok" : "NOT MET") }'

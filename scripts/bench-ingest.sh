#!/usr/bin/env bash
# bench-ingest: recs ingest against pandas.read_csv on the same 25M-row
# ratings.csv (synthetic, shaped like MovieLens 25M, about 670 MB), measured
# in the same run on the same machine.
#
# Bars: parsing at least 2x faster than pandas.read_csv with
# int32/float32/int64 dtypes; the whole ingest (parse, validate, dedupe,
# write Parquet, the whole process) at least 2.5x faster than pandas' read
# alone (issue 16); peak memory under 1.5 GB.
#
# Each measurement is the best of RUNS runs (default 3) after a warm-up read
# of the file, so all readers start from the page cache. Peak memory is the
# maximum resident set size from /usr/bin/time -v.
#
# Usage: scripts/bench-ingest.sh    (make bench-ingest builds bin/recs first)
# Env:   BENCH_DIR (default /tmp/recs-bench), RUNS (default 3),
#        RECS (default bin/recs), PYTHON (default /usr/bin/python3)
set -euo pipefail
cd "$(dirname "$0")/.."

RECS=${RECS:-bin/recs}
PYTHON=${PYTHON:-/usr/bin/python3}
BENCH_DIR=${BENCH_DIR:-/tmp/recs-bench}
RUNS=${RUNS:-3}
CSV=$BENCH_DIR/ratings.csv
OUT=$BENCH_DIR/ratings.parquet

[ -x "$RECS" ] || { echo "bench-ingest: $RECS missing; run 'make build'" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench-ingest: /usr/bin/time missing; apt-get install -y time" >&2; exit 1; }
"$PYTHON" -c 'import pandas' 2>/dev/null || {
	echo "bench-ingest: pandas missing for $PYTHON; apt-get install -y python3-pandas" >&2; exit 1; }
mkdir -p "$BENCH_DIR"

# The data: synthetic ml-25m (25,000,095 ratings), seed 1, regenerated only
# when missing (the same seed gives the same bytes).
if [ ! -s "$CSV" ]; then
	echo "generating $CSV ..."
	"$RECS" --quiet synth --preset ml-25m --seed 1 -o "$CSV"
fi
bytes=$(stat -c %s "$CSV")
cat "$CSV" > /dev/null # warm the page cache

# run_timed CMD... : runs CMD under /usr/bin/time; sets WALL (s), RSS (KB),
# OUTFILE and ERRFILE (the command's stdout and stderr).
run_timed() {
	local tf; tf=$(mktemp)
	OUTFILE=$(mktemp); ERRFILE=$(mktemp)
	/usr/bin/time -v -o "$tf" "$@" > "$OUTFILE" 2> "$ERRFILE"
	WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$tf")
	RSS=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tf")
	rm -f "$tf"
}

best() { printf '%s\n' "$@" | sort -g | head -1; }

PANDAS_PY='
import sys, time
import pandas as pd
t = time.perf_counter()
df = pd.read_csv(sys.argv[1], dtype={"userId": "int32", "movieId": "int32", "rating": "float32", "timestamp": "int64"})
sys.stderr.write("read_s %.3f rows %d\n" % (time.perf_counter() - t, len(df)))
'

pandas_read=(); pandas_rss=()
recs_read=(); recs_total=(); recs_rss=()
for run in $(seq "$RUNS"); do
	run_timed "$PYTHON" -c "$PANDAS_PY" "$CSV"
	pandas_read+=("$(awk '/^read_s/ {print $2}' "$ERRFILE")")
	pandas_rss+=("$RSS")
	rows_pd=$(awk '/^read_s/ {print $4}' "$ERRFILE")
	rm -f "$ERRFILE" "$OUTFILE"

	rm -f "$OUT"
	run_timed "$RECS" --log-format json ingest "$CSV" -o "$OUT" --json
	# The "ingested" log line times the read (parse, validate, dedupe) and
	# the whole command; WALL adds process start and exit.
	recs_read+=("$("$PYTHON" -c 'import json,sys
for l in open(sys.argv[1]):
    l = json.loads(l)
    if l.get("msg") == "ingested": print(l["read_seconds"])' "$ERRFILE")")
	recs_total+=("$WALL")
	recs_rss+=("$RSS")
	rows=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["ratings"])' "$OUTFILE")
	rm -f "$ERRFILE" "$OUTFILE"
	echo "  run $run: pandas read ${pandas_read[-1]} s; recs read ${recs_read[-1]} s, whole ingest ${recs_total[-1]} s" >&2
done
[ "$rows" = "$rows_pd" ] || { echo "bench-ingest: recs read $rows rows, pandas $rows_pd" >&2; exit 1; }

pd_s=$(best "${pandas_read[@]}"); pd_kb=$(best "${pandas_rss[@]}")
rd_s=$(best "${recs_read[@]}"); tot_s=$(best "${recs_total[@]}")
rss_kb=$(printf '%s\n' "${recs_rss[@]}" | sort -g | tail -1) # worst peak of recs

"$PYTHON" - "$bytes" "$rows" "$pd_s" "$pd_kb" "$rd_s" "$tot_s" "$rss_kb" "$(nproc)" "$RUNS" <<'EOF'
import sys
bytes_, rows, pd_s, pd_kb, rd_s, tot_s, rss_kb, cores, runs = sys.argv[1:]
bytes_, rows, cores, runs = int(bytes_), int(rows), int(cores), int(runs)
pd_s, rd_s, tot_s = float(pd_s), float(rd_s), float(tot_s)
pd_gb, rss_gb = int(pd_kb) / 2**20, int(rss_kb) / 2**20
mb = bytes_ / 1e6
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
print(f"bench-ingest: {rows:,} ratings, {mb:.0f} MB ratings.csv (synthetic ml-25m), {cpu}, {cores} cores, best of {runs} runs")
print(f"  pandas.read_csv (int32/float32/int64)        {pd_s:7.2f} s  {mb/pd_s:6.0f} MB/s  peak {pd_gb:.2f} GB")
print(f"  recs parse (ingest.Read: parse, validate, dedupe) {rd_s:6.2f} s  {mb/rd_s:6.0f} MB/s  {pd_s/rd_s:5.2f}x pandas")
print(f"  recs ingest (+ write Parquet, whole process) {tot_s:7.2f} s  {mb/tot_s:6.0f} MB/s  {pd_s/tot_s:5.2f}x pandas  peak {rss_gb:.2f} GB")
bars = [
    ("parse at least 2x faster than pandas.read_csv", pd_s / rd_s >= 2),
    ("whole ingest at least 2.5x faster than pandas.read_csv", pd_s / tot_s >= 2.5),
    ("peak memory under 1.5 GB", rss_gb < 1.5),
]
for name, ok in bars:
    print(f"  {'PASS' if ok else 'FAIL'}  {name}")
print("  (timings on a shared machine are noisy; the ratios compare runs made minutes apart)")
sys.exit(0 if all(ok for _, ok in bars) else 1)
EOF

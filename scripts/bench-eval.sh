#!/usr/bin/env bash
# bench-eval: ranking evaluation at MovieLens-20M size against the bar
# (138,000 users × 27,000 items, rank 64, k = 10, every user ranked
# over the items they did not rate) of < 15 s and < 2 GB on 2 cores.
#
# 1. Kernel: one tile kernel on L1-resident data, single core, GFLOP/s for
#    each kernel this CPU has (avx512, avx2, generic): the ratio against
#    the portable Go kernel is measured in the same run.
# 2. topk.Each, all users, ~145 excluded items per user (random model):
#    users/s and GFLOP/s (2·users·items·rank flops), best kernel at ML-20M
#    size, every kernel at ML-1M size (6,040 × 3,706).
# 3. eval.EvaluateModel at ML-20M size (random model, 20M random ratings
#    split 75/25): the whole evaluation after loading.
# 4. End to end (unless SKIP_E2E=1): `recs synth --preset ml-20m`, `recs
#    split`, a rank-64 model (`recs fit`, 1 iteration: quality is irrelevant
#    here), then `recs eval` with loading, hashing and the document.
#
# Every case prints wall and CPU time (user + system, from /usr/bin/time)
# and peak resident memory. On a shared machine the wall time includes
# waiting for a CPU; CPU time / THREADS is what the run takes with the cores
# to itself. The load average is printed so that noisy numbers are known as
# such.
#
# Usage: scripts/bench-eval.sh        (make bench-eval builds bin/recs first)
# Env:   BENCH_DIR (default /tmp/recs-bench-eval), THREADS (default 2),
#        RECS (default bin/recs), SKIP_E2E=1, SKIP_20M=1 (small sizes only).
set -euo pipefail
cd "$(dirname "$0")/.."

RECS=${RECS:-bin/recs}
BENCH_DIR=${BENCH_DIR:-/tmp/recs-bench-eval}
THREADS=${THREADS:-2}
[ -x /usr/bin/time ] || { echo "bench-eval: /usr/bin/time missing; apt-get install -y time" >&2; exit 1; }
mkdir -p "$BENCH_DIR"

echo "bench-eval: $(nproc) cores, GOMAXPROCS=$THREADS, load average $(cut -d' ' -f1-3 /proc/loadavg)"
go test -c -o "$BENCH_DIR/topk.test" ./topk
go test -c -o "$BENCH_DIR/eval.test" ./eval

# timed NAME CMD...: runs CMD under /usr/bin/time, prints its benchmark
# lines and a summary line with wall, CPU and peak memory.
timed() {
	local name=$1; shift
	local tf out
	tf=$(mktemp); out=$(mktemp)
	GOMAXPROCS=$THREADS /usr/bin/time -v -o "$tf" "$@" > "$out" 2>&1 || {
		echo "bench-eval: $name failed:" >&2; cat "$out" >&2; exit 1; }
	grep -E '^Benchmark' "$out" | sed -E 's/^Benchmark//' || true
	awk -F': ' -v name="$name" -v th="$THREADS" '
		/Elapsed \(wall clock\)/ {n=split($2,a,":"); w=0; for(i=1;i<=n;i++) w=w*60+a[i]}
		/User time/ {u=$2} /System time/ {s=$2}
		/Maximum resident set size/ {r=$2/1024}
		END {printf "  %-34s wall %6.2f s   CPU %6.2f s (%.2f s per core)   peak RSS %5.0f MB\n", name, w, u+s, (u+s)/th, r}' "$tf"
	rm -f "$tf" "$out"
}

echo
echo "== 1. tile kernel, 1 core, wall-clock GFLOP/s (ratio to generic in the same run; noisy when the load average is high)"
GOMAXPROCS=1 "$BENCH_DIR/topk.test" -test.run '^$' -test.bench '^BenchmarkKernel$' -test.benchtime 500ms |
	awk '/^BenchmarkKernel/ {split($1,n,"/"); r=n[2]; k=n[3]; sub(/-[0-9]+$/,"",k); g[r","k]=$5; order[++c]=r","k}
	     END {for(i=1;i<=c;i++){split(order[i],p,","); printf "  %-10s %-16s %7.1f GFLOP/s  %5.1fx generic\n", p[1], p[2], g[order[i]], g[order[i]]/g[p[1]",kernel=generic"]}}'

echo
echo "== 2. topk.Each: all users, k=10, ~145 exclusions per user"
timed "Each ML-1M size, every kernel" "$BENCH_DIR/topk.test" -test.run '^$' -test.bench '^BenchmarkEach$/^users=6040$/' -test.benchtime 3x
if [ -z "${SKIP_20M:-}" ]; then
	best=$("$BENCH_DIR/topk.test" -test.run '^TestKernelName$' -test.v 2>/dev/null | sed -n 's/.*kernel: //p' | head -1)
	best=${best:-avx512}
	timed "Each ML-20M size, $best" "$BENCH_DIR/topk.test" -test.run '^$' -test.bench "^BenchmarkEach\$/^users=138000\$/./././^kernel=$best\$" -test.benchtime 1x -test.short
fi

echo
echo "== 3. eval.EvaluateModel (mapping, exclusions, top-k, all metrics)"
if [ -z "${SKIP_20M:-}" ]; then
	timed "EvaluateModel ML-20M size" "$BENCH_DIR/eval.test" -test.run '^$' -test.bench '^BenchmarkEvaluateModel$/^users=138000$/' -test.benchtime 1x
else
	timed "EvaluateModel ML-100k size" "$BENCH_DIR/eval.test" -test.run '^$' -test.bench '^BenchmarkEvaluateModel$/^users=943$/' -test.benchtime 5x
fi

if [ -n "${SKIP_E2E:-}" ] || [ -n "${SKIP_20M:-}" ]; then
	exit 0
fi
echo
echo "== 4. recs eval end to end on synthetic ML-20M (rank-64 model, k=10)"
[ -x "$RECS" ] || { echo "bench-eval: $RECS missing; run 'make build'" >&2; exit 1; }
DATA=$BENCH_DIR/ml-20m.parquet
if [ ! -s "$DATA" ]; then
	echo "  generating $DATA, splitting it and fitting a rank-64 model (once) ..."
	"$RECS" --quiet synth --preset ml-20m --seed 1 -o "$DATA"
fi
if [ ! -s "$BENCH_DIR/split/test.parquet" ]; then
	"$RECS" --quiet split "$DATA" -o "$BENCH_DIR/split" --method random --ratio 0.75 --seed 42 > /dev/null
fi
if [ ! -d "$BENCH_DIR/model" ]; then
	"$RECS" --quiet fit "$BENCH_DIR/split/train.parquet" -o "$BENCH_DIR/model" --rank 64 --max-iter 1 --threads "$THREADS" > /dev/null
fi
timed "recs eval (load + evaluate + write)" "$RECS" --log-format json eval --model "$BENCH_DIR/model" \
	--train "$BENCH_DIR/split/train.parquet" --test "$BENCH_DIR/split/test.parquet" --k 10 \
	--threads "$THREADS" --json "$BENCH_DIR/metrics.json"
grep -E '"(rankedUsers|catalogueItems|excludedPairs)"' "$BENCH_DIR/metrics.json" | tr -d ' ,' | paste -sd' ' | sed 's/^/  /'
echo "  bar: < 15 s wall and < 2048 MB on 2 cores (load average now $(cut -d' ' -f1 /proc/loadavg))"

#!/usr/bin/env bash
# bench-als: recs fit on synthetic MovieLens-shaped data, against the bars of
# issue 3, and against shared/peers/numpy_als.py on the same data in the
# same run.
#
# Bars (2 cores): ml-20m (20M ratings, 138k users, 27k items), rank 64:
# explicit ≤ 5 s per iteration, implicit with CG (3 steps) ≤ 1.25 s per
# iteration, peak memory of the fit ≤ 1.5 GB; ml-100k: rank 10, 15
# iterations explicit < 0.2 s of fit time, implicit rank 64, 15 iterations
# < 0.2 s.
#
# Every case reports wall time and CPU time (user + system). On a shared
# machine the wall time includes waiting for the CPU; the CPU time per
# iteration divided by the thread count is what the fit would take with the
# cores to itself. Per-iteration CPU comes from two runs (1 and ITERS
# iterations) so that loading and saving cancel out. GFLOP/s counts the
# Gram work of ALS-WR as 2·nnz·k² per iteration (163.8 GFLOP for ml-20m at
# rank 64: k² flops per rating and side, the symmetric half).
#
# Usage: scripts/bench-als.sh       (make bench-als builds bin/recs first)
# Env:   BENCH_DIR (default /tmp/recs-bench-als), THREADS (default 2),
#        ITERS (default 3), RECS (default bin/recs), PYTHON (default
#        /usr/bin/python3), NUMPY_ALS (default ../shared/peers/numpy_als.py),
#        SKIP_20M=1 to run only the ml-100k cases.
set -euo pipefail
cd "$(dirname "$0")/.."

RECS=${RECS:-bin/recs}
PYTHON=${PYTHON:-/usr/bin/python3}
BENCH_DIR=${BENCH_DIR:-/tmp/recs-bench-als}
THREADS=${THREADS:-2}
ITERS=${ITERS:-3}
NUMPY_ALS=${NUMPY_ALS:-../shared/peers/numpy_als.py}

[ -x "$RECS" ] || { echo "bench-als: $RECS missing; run 'make build'" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench-als: /usr/bin/time missing; apt-get install -y time" >&2; exit 1; }
mkdir -p "$BENCH_DIR"
M20=$BENCH_DIR/ml-20m.parquet
M100=$BENCH_DIR/ml-100k.tsv
TEST100=$BENCH_DIR/ml-100k-test.tsv
if [ -z "${SKIP_20M:-}" ] && [ ! -s "$M20" ]; then
	echo "generating $M20 ..."
	"$RECS" --quiet synth --preset ml-20m --seed 1 -o "$M20"
fi
if [ ! -s "$M100" ]; then
	"$RECS" --quiet synth --preset ml-100k --seed 1 --format udata -o "$M100"
fi
# numpy_als.py wants a test file; the last 2,000 ratings serve (timing only).
tail -n 2000 "$M100" > "$TEST100"

# fit_timed OUT_PREFIX ARGS... runs recs fit under /usr/bin/time and sets
# WALL, CPU (user+sys seconds), RSS_MB, FIT_S (fit time from --json),
# ITER_MED (median seconds of the per-iteration log lines), NNZ.
fit_timed() {
	local tf out err
	tf=$(mktemp); out=$(mktemp); err=$(mktemp)
	/usr/bin/time -v -o "$tf" "$RECS" --log-format json fit "$@" --threads "$THREADS" --json -o "$BENCH_DIR/model" > "$out" 2> "$err" || {
		echo "bench-als: recs fit $* failed:" >&2; cat "$err" >&2; exit 1; }
	WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$tf")
	CPU=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$tf")
	RSS_MB=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$tf")
	FIT_S=$(grep -o '"seconds":[0-9.e+-]*' "$out" | head -1 | cut -d: -f2)
	ITER_MED=$({ grep '"msg":"iteration"' "$err" || true; } | { grep -o '"seconds":[0-9.e+-]*' || true; } | cut -d: -f2 | sort -g |
		awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}')
	NNZ=$({ grep -o '"msg":"loaded training data"[^}]*"ratings":[0-9]*' "$err" || true; } | { grep -o '"ratings":[0-9]*' || true; } | cut -d: -f2)
	rm -f "$tf" "$out" "$err"
}

calc() { awk "BEGIN {print $*}"; }
fmt() { awk -v x="$1" -v f="$2" 'BEGIN {printf f, x}'; }
verdict() { awk -v a="$1" -v b="$2" 'BEGIN {print (a <= b ? "ok" : "OVER")}'; }

echo "bench-als: $(nproc) cores, THREADS=$THREADS, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '%-38s %10s %10s %10s %10s %9s %8s %s\n' "case" "wall s/it" "cpu s/it" "cpu/thr" "GFLOP/s" "bar s/it" "bar/x" "verdict (on cpu/thr)"

# per_iter NAME DATA BAR FLOPS_PER_RATING ARGS...: ml-20m cases.
per_iter() {
	local name=$1 data=$2 bar=$3 fpr=$4; shift 4
	fit_timed "$data" --max-iter 1 "$@"; local cpu1=$CPU
	fit_timed "$data" --max-iter "$ITERS" "$@"
	local cpu_it thr gf
	cpu_it=$(calc "($CPU - $cpu1) / ($ITERS - 1)")
	thr=$(calc "$cpu_it / $THREADS")
	gf=-
	if [ "$fpr" != 0 ]; then gf=$(fmt "$(calc "2 * $NNZ * $fpr / 1e9 / $thr")" %.1f); fi
	printf '%-38s %10s %10s %10s %10s %9s %8s %s\n' "$name" "$(fmt "$ITER_MED" %.2f)" "$(fmt "$cpu_it" %.2f)" \
		"$(fmt "$thr" %.2f)" "$gf" "$bar" "$(fmt "$(calc "$bar / $thr")" %.2fx)" "$(verdict "$thr" "$bar")"
	PEAK_MB=$RSS_MB
}

if [ -z "${SKIP_20M:-}" ]; then
	per_iter "ml-20m explicit rank 64 (cholesky)" "$M20" 5 4096 --rank 64 --reg 0.05
	peak_exp=$PEAK_MB
	per_iter "ml-20m implicit rank 64 (cg-3)" "$M20" 1.25 0 --rank 64 --implicit --alpha 2 --reg 50 --reg-mode plain --solver cg --cg-steps 3
	peak_imp=$PEAK_MB
	printf '%-38s %10s %10s %10s %10s %9s %8s %s\n' "ml-20m peak RSS (MB), explicit/implicit" "$peak_exp" "$peak_imp" "" "" "1536" \
		"$(fmt "$(calc "1536 / ($peak_exp > $peak_imp ? $peak_exp : $peak_imp)")" %.2fx)" \
		"$(verdict "$(calc "($peak_exp > $peak_imp ? $peak_exp : $peak_imp)")" 1536)"
fi

# ml-100k: whole fits of 15 iterations. Wall is the fit time recs reports
# (loading and saving excluded); CPU is that of the run minus that of a run
# with --max-iter 0 (loading, set-up and saving only).
small() {
	local name=$1 bar=$2; shift 2
	fit_timed "$M100" --max-iter 0 "$@"; local cpu0=$CPU
	fit_timed "$M100" --max-iter 15 "$@"
	local cpu_fit thr
	cpu_fit=$(calc "$CPU - $cpu0")
	thr=$(calc "$cpu_fit / $THREADS")
	printf '%-38s %10s %10s %10s %10s %9s %8s %s\n' "$name" "$(fmt "$FIT_S" %.3f)" "$(fmt "$cpu_fit" %.3f)" "$(fmt "$thr" %.3f)" "-" "$bar" \
		"$(fmt "$(calc "$bar / ($thr > 0 ? $thr : 1e-9)")" %.2fx)" "$(verdict "$thr" "$bar") (whole fit, not per iteration)"
}
small "ml-100k explicit rank 10, 15 it" 0.2 --rank 10 --reg 0.05
recs100=$FIT_S
small "ml-100k implicit rank 64 cg, 15 it" 0.2 --rank 64 --implicit --alpha 2 --reg 50 --reg-mode plain --solver cg
RECS_ALS_KERNELS=go fit_timed "$M100" --max-iter 15 --rank 10 --reg 0.05
go100=$FIT_S
echo
echo "assembly kernels vs portable Go (ml-100k explicit rank 10, 15 it): $(fmt "$go100" %.3f) s / $(fmt "$recs100" %.3f) s = $(fmt "$(calc "$go100 / $recs100")" %.1fx)"

if [ -f "$NUMPY_ALS" ] && "$PYTHON" -c 'import numpy' 2>/dev/null; then
	np_out=$("$PYTHON" "$NUMPY_ALS" "$M100" "$TEST100" --rank 10 --reg 0.05 --iters 15 --seed 42)
	np_s=$(echo "$np_out" | awk '/^train_time_s/ {print $2}')
	echo "numpy_als.py, same ml-100k file, rank 10, 15 it: $(fmt "$np_s" %.3f) s; recs $(fmt "$recs100" %.3f) s: recs is $(fmt "$(calc "$np_s / $recs100")" %.1fx) faster"
else
	echo "numpy_als.py comparison skipped (no $NUMPY_ALS or no NumPy for $PYTHON)"
fi
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg) (numbers are noisy when it exceeds the core count)"

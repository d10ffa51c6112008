#!/usr/bin/env bash
# bench-als: recs fit on synthetic MovieLens-shaped data, once per kernel
# tier this CPU supports, against references measured in the same run: the
# machine's own OpenBLAS dgemm/sgemm (through NumPy), benfred/implicit's CG
# on the same data (when its source is beside the project), and
# numpy_als.py on ml-100k.
#
# Bars (2 cores, the project's machine kind): ml-20m shape (20M ratings,
# 138k users, 27k items), rank 64: explicit Gram work ≥ 50% of the
# machine's dgemm rate on the same threads; implicit CG (3 steps) ≥ 3×
# faster per iteration than benfred/implicit (CG, float32, same threads);
# peak memory of the fit ≤ 1.5 GB; ml-100k: explicit rank 10, 15 iterations
# ≤ 0.1 s; recs tune, built-in space, 100 trials ≤ 10 s.
#
# Seconds per iteration are the median of the fit's own per-iteration log
# lines (wall clock, both half-steps): compare tiers and references as
# ratios within one run, and mind the load average printed at both ends.
# GFLOP/s counts the Gram work of ALS-WR as 2·nnz·k² per iteration (163.8
# GFLOP for ml-20m at rank 64: k² flops per rating and side, the symmetric
# half), the convention under which dgemm does 2n³.
#
# The dgemm rate an assembly tier is held to is OpenBLAS's rate with the
# kernels of the same instruction set: native for the widest tier, and
# OPENBLAS_CORETYPE=Haswell (OpenBLAS's AVX2+FMA kernels) for avx2, so that
# on a machine with AVX-512 the avx2 row still says what it would be worth
# on an AVX2-only CPU.
#
# Usage: scripts/bench-als.sh       (make bench-als builds bin/recs first)
# Env:   BENCH_DIR (default /tmp/recs-bench-als), THREADS (default 2),
#        ITERS (default 3; the gonum tier runs GONUM_ITERS, default 2),
#        TIERS (default: every tier `recs version` lists), RECS (default
#        bin/recs), PYTHON (default /usr/bin/python3), PEERS (default
#        ../shared/peers), SKIP_20M=1 for the ml-100k cases only,
#        SKIP_IMPLICIT_PEER=1 to leave benfred/implicit out, ML100K (default
#        ../shared/data/ml-100k/u.data, else synthetic) for recs tune.
set -euo pipefail
cd "$(dirname "$0")/.."

RECS=${RECS:-bin/recs}
PYTHON=${PYTHON:-/usr/bin/python3}
BENCH_DIR=${BENCH_DIR:-/tmp/recs-bench-als}
THREADS=${THREADS:-2}
ITERS=${ITERS:-3}
GONUM_ITERS=${GONUM_ITERS:-2}
PEERS=${PEERS:-../shared/peers}

[ -x "$RECS" ] || { echo "bench-als: $RECS missing; run 'make build'" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench-als: /usr/bin/time missing; apt-get install -y time" >&2; exit 1; }
mkdir -p "$BENCH_DIR"
M20=$BENCH_DIR/ml-20m.parquet
M20TSV=$BENCH_DIR/ml-20m.tsv
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

calc() { awk "BEGIN {print $*}"; }
fmt() { awk -v x="$1" -v f="$2" 'BEGIN {printf f, x}'; }
atleast() { awk -v a="$1" -v b="$2" 'BEGIN {print (a >= b ? "ok" : "UNDER")}'; }
atmost() { awk -v a="$1" -v b="$2" 'BEGIN {print (a <= b ? "ok" : "OVER")}'; }
have_numpy() { "$PYTHON" -c 'import numpy, scipy' 2>/dev/null; }

# The tiers: "kernels: als avx512 (this CPU: avx512, avx2, gonum), ...".
if [ -z "${TIERS:-}" ]; then
	TIERS=$("$RECS" version | sed -n 's/^kernels: als [a-z0-9]* (this CPU: \([^)]*\)).*/\1/p' | tr -d ',')
fi
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
flags=$(grep -m1 '^flags' /proc/cpuinfo | grep -ow 'avx512f\|avx2\|fma\|asimd' | sort -u | tr '\n' ' ')
echo "bench-als: $cpu; $(nproc) cores; CPU flags: ${flags:-none of avx512f/avx2/fma/asimd}"
echo "kernel tiers measured: $TIERS; THREADS=$THREADS; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# --- The machine's BLAS ---------------------------------------------------
DGEMM_NATIVE=0; SGEMM_NATIVE=0; DGEMM_AVX2=0; SGEMM_AVX2=0
if have_numpy; then
	out=$(OPENBLAS_NUM_THREADS=$THREADS "$PYTHON" scripts/bench_blas.py)
	DGEMM_NATIVE=$(echo "$out" | awk '/^dgemm/ {print $3}'); SGEMM_NATIVE=$(echo "$out" | awk '/^sgemm/ {print $3}')
	out=$(OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=$THREADS "$PYTHON" scripts/bench_blas.py)
	DGEMM_AVX2=$(echo "$out" | awk '/^dgemm/ {print $3}'); SGEMM_AVX2=$(echo "$out" | awk '/^sgemm/ {print $3}')
	echo "OpenBLAS via NumPy, $THREADS threads, n = 3072, best of 5:"
	echo "  native kernels:               dgemm $DGEMM_NATIVE GFLOP/s, sgemm $SGEMM_NATIVE GFLOP/s"
	echo "  OPENBLAS_CORETYPE=Haswell:    dgemm $DGEMM_AVX2 GFLOP/s, sgemm $SGEMM_AVX2 GFLOP/s (AVX2+FMA kernels)"
else
	echo "OpenBLAS comparison skipped: $PYTHON has no NumPy/SciPy (apt-get install -y python3-numpy python3-scipy)"
fi
echo
dgemm_for() { case $1 in avx2) echo "$DGEMM_AVX2" ;; *) echo "$DGEMM_NATIVE" ;; esac; }

# fit_timed ARGS... runs recs fit under /usr/bin/time and sets FIT_S (fit
# time from --json), ITER_MED (median seconds of the iteration log lines),
# RSS_MB and NNZ. RECS_KERNELS comes from the caller's environment.
fit_timed() {
	local tf out err
	tf=$(mktemp); out=$(mktemp); err=$(mktemp)
	/usr/bin/time -v -o "$tf" "$RECS" --log-format json fit "$@" --threads "$THREADS" --json -o "$BENCH_DIR/model" > "$out" 2> "$err" || {
		echo "bench-als: recs fit $* failed:" >&2; cat "$err" >&2; exit 1; }
	RSS_MB=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$tf")
	FIT_S=$(grep -o '"seconds":[0-9.e+-]*' "$out" | head -1 | cut -d: -f2)
	ITER_MED=$({ grep '"msg":"iteration"' "$err" || true; } | { grep -o '"seconds":[0-9.e+-]*' || true; } | cut -d: -f2 | sort -g |
		awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}')
	NNZ=$({ grep -o '"msg":"loaded training data"[^}]*"ratings":[0-9]*' "$err" || true; } | { grep -o '"ratings":[0-9]*' || true; } | cut -d: -f2)
	rm -f "$tf" "$out" "$err"
}

iters_for() { if [ "$1" = gonum ]; then echo "$GONUM_ITERS"; else echo "$ITERS"; fi; }
row() { printf '%-34s %-7s %9s %9s %10s %8s  %s\n' "$@"; }

if [ -z "${SKIP_20M:-}" ]; then
	echo "ml-20m shape, rank 64, $THREADS threads (s/it: median of the iteration lines)"
	row "case" "tier" "s/it" "GFLOP/s" "peak MB" "share" "verdict"
	peak=0
	for tier in $TIERS; do
		RECS_KERNELS=$tier fit_timed "$M20" --max-iter "$(iters_for "$tier")" --rank 64 --reg 0.05
		gf=$(calc "2 * $NNZ * 4096 / 1e9 / $ITER_MED")
		dg=$(dgemm_for "$tier")
		share=-; verdict="(no dgemm reference)"
		if [ "$dg" != 0 ]; then
			share=$(fmt "$(calc "100 * $gf / $dg")" %.0f%%)
			verdict="$(atleast "$(calc "$gf / $dg")" 0.5) (bar ≥ 50% of dgemm $dg GFLOP/s)"
		fi
		[ "$tier" = gonum ] && verdict="reference tier: no bar"
		row "explicit (cholesky)" "$tier" "$(fmt "$ITER_MED" %.2f)" "$(fmt "$gf" %.1f)" "$RSS_MB" "$share" "$verdict"
		peak=$(( RSS_MB > peak ? RSS_MB : peak ))
		eval "EXP_$tier=$ITER_MED"
	done
	declare -A imp
	for tier in $TIERS; do
		RECS_KERNELS=$tier fit_timed "$M20" --max-iter "$(iters_for "$tier")" --rank 64 --implicit --alpha 2 --reg 50 --reg-mode plain --solver cg --cg-steps 3
		imp[$tier]=$ITER_MED
		peak=$(( RSS_MB > peak ? RSS_MB : peak ))
		row "implicit (cg, 3 steps)" "$tier" "$(fmt "$ITER_MED" %.2f)" "-" "$RSS_MB" "-" ""
	done
	row "peak RSS of any fit" "" "" "" "$peak" "" "$(atmost "$peak" 1536) (bar 1536 MB)"
	# benfred/implicit on the same ratings, same rank, α, λ, CG steps.
	if [ -n "${SKIP_IMPLICIT_PEER:-}" ]; then
		echo "benfred/implicit skipped (SKIP_IMPLICIT_PEER)"
	elif [ ! -f "$PEERS/implicit/build_ext_manual.sh" ]; then
		echo "benfred/implicit skipped: no $PEERS/implicit"
	elif ! have_numpy || ! command -v cython3 >/dev/null; then
		echo "benfred/implicit skipped: needs apt-get install -y build-essential cython3 python3-dev python3-numpy python3-scipy python3-tqdm python3-threadpoolctl"
	else
		peerdir=$BENCH_DIR/implicit-build
		if [ ! -f "$peerdir/.built" ]; then
			echo "building benfred/implicit in $peerdir (about 100 s, once) ..."
			rm -rf "$peerdir"; mkdir -p "$peerdir"
			cp -r --no-preserve=mode "$PEERS/implicit" "$peerdir/"
			bash "$peerdir/implicit/build_ext_manual.sh" > "$peerdir/build.log" 2>&1 || {
				echo "bench-als: building benfred/implicit failed; see $peerdir/build.log" >&2; exit 1; }
			touch "$peerdir/.built"
		fi
		[ -s "$M20TSV" ] || "$RECS" --quiet synth --preset ml-20m --seed 1 --format udata -o "$M20TSV"
		out=$(OPENBLAS_NUM_THREADS=1 PYTHONPATH="$peerdir/implicit" "$PYTHON" scripts/bench_implicit.py "$M20TSV" 64 2 50 "$ITERS" "$THREADS")
		peer=$(echo "$out" | awk '/s\/it/ {print $3}')
		row "benfred/implicit 0.7.3 cg-3" "float32" "$(fmt "$peer" %.2f)" "-" "-" "-" "same data, rank, α, λ, threads"
		for tier in $TIERS; do
			echo "  recs $tier vs benfred/implicit: $(fmt "$(calc "$peer / ${imp[$tier]}")" %.2f)× faster per iteration ($(atleast "$(calc "$peer / ${imp[$tier]}")" 3) on bar ≥ 3×)"
		done
	fi
	echo
fi

# --- ml-100k: whole fits and a tuning run per tier ---------------------------
# recs tune runs on the real MovieLens 100k when it is beside the project
# (ML100K), on the synthetic ml-100k otherwise: a 75/25 split stratified by
# item (Recommenders' protocol), the search sees the train part.
TUNE_DIR=$BENCH_DIR/tune
TUNE_DATA=${ML100K:-$PEERS/../data/ml-100k/u.data}
[ -f "$TUNE_DATA" ] || TUNE_DATA=$M100
"$RECS" --quiet split "$TUNE_DATA" -o "$BENCH_DIR/split100" --method stratified --by item --ratio 0.75 --seed 42 >/dev/null
echo "recs tune data: $TUNE_DATA"
echo "ml-100k shape ($THREADS threads): fit seconds as recs reports them (loading and saving excluded)"
row "case" "tier" "seconds" "" "" "" "verdict"
for tier in $TIERS; do
	RECS_KERNELS=$tier fit_timed "$M100" --max-iter 15 --rank 10 --reg 0.05
	row "explicit rank 10, 15 it" "$tier" "$(fmt "$FIT_S" %.3f)" "" "" "" "$(atmost "$FIT_S" 0.1) (bar 0.1 s)"
	eval "SMALL_$tier=$FIT_S"
	RECS_KERNELS=$tier fit_timed "$M100" --max-iter 15 --rank 64 --implicit --alpha 2 --reg 50 --reg-mode plain --solver cg
	row "implicit rank 64 cg, 15 it" "$tier" "$(fmt "$FIT_S" %.3f)" "" "" "" ""
	rm -rf "$TUNE_DIR"
	t0=$(date +%s.%N)
	RECS_KERNELS=$tier "$RECS" --quiet tune --train "$BENCH_DIR/split100/train.parquet" -o "$TUNE_DIR" --budget 100 >/dev/null
	tune_s=$(calc "$(date +%s.%N) - $t0")
	row "recs tune, built-in, 100 trials" "$tier" "$(fmt "$tune_s" %.2f)" "" "" "" "$(atmost "$tune_s" 10) (bar 10 s, wall)"
done
best=${TIERS%% *}
eval "best_s=\$SMALL_$best"

if [ -f "$PEERS/numpy_als.py" ] && have_numpy; then
	np_out=$("$PYTHON" "$PEERS/numpy_als.py" "$M100" "$TEST100" --rank 10 --reg 0.05 --iters 15 --seed 42)
	np_s=$(echo "$np_out" | awk '/^train_time_s/ {print $2}')
	echo "numpy_als.py, same ml-100k file, rank 10, 15 it: $(fmt "$np_s" %.3f) s; recs ($best) $(fmt "$best_s" %.3f) s: $(fmt "$(calc "$np_s / $best_s")" %.1fx) faster"
else
	echo "numpy_als.py comparison skipped (no $PEERS/numpy_als.py or no NumPy for $PYTHON)"
fi
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg) (numbers are noisy when it exceeds the core count)"

#!/usr/bin/env bash
# bench-scale: the one-machine envelope of `recs fit`. Peak memory and
# seconds per iteration against the number of ratings (1M, 5M, 20M, 50M
# synthetic ratings from `recs synth`, rank 64, explicit Cholesky and
# implicit conjugate gradient), a least-squares line through each, and the
# largest data set that fits a machine of 16, 64 and 256 GB.
#
# Shape of the data: users grow with the ratings (ml-20m's 144 ratings per
# user), items with their square root (ml-20m's 26,744 items at 20M), so
# 20M is the ml-20m shape and 50M has 347k users and 42k items.
#
# Memory is the peak resident set of the whole `recs fit` process
# (/usr/bin/time -v: loading the Parquet file, both CSR views, factors,
# per-thread Gram buffers, saving the model), which does not depend on the
# load of the machine. Seconds per iteration are the median of the fit's own
# per-iteration log lines (wall clock); on a shared machine they are upper
# bounds. The largest data set per machine solves a + b·n ≤ 0.8·RAM (a fifth
# left to the kernel, the page cache and the rest of the pod) with the
# memory line of the more demanding of the two modes; training time at that
# size follows from the time line.
#
# Usage: scripts/bench-scale.sh      (make bench-scale builds bin/recs first)
# Env:   BENCH_DIR (default /tmp/recs-bench-scale; the synthetic files stay
#        there, 50M is about 0.5 GB), SIZES (default "1 5 20 50", millions
#        of ratings), ITERS (default 3), THREADS (default 2), RANK (default
#        64), RECS (default bin/recs), KEEP_DATA=0 to delete each file after
#        its fits.
set -euo pipefail
cd "$(dirname "$0")/.."

RECS=${RECS:-bin/recs}
BENCH_DIR=${BENCH_DIR:-/tmp/recs-bench-scale}
SIZES=${SIZES:-1 5 20 50}
ITERS=${ITERS:-3}
THREADS=${THREADS:-2}
RANK=${RANK:-64}
KEEP_DATA=${KEEP_DATA:-1}

[ -x "$RECS" ] || { echo "bench-scale: $RECS missing; run 'make build'" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench-scale: /usr/bin/time missing; apt-get install -y time" >&2; exit 1; }
mkdir -p "$BENCH_DIR"

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
mem_gb=$(awk '/MemTotal/ {printf "%.0f", $2/1048576}' /proc/meminfo)
echo "bench-scale: $cpu; $(nproc) cores; ${mem_gb} GB; THREADS=$THREADS, rank $RANK, $ITERS iterations per fit"
echo "$("$RECS" version | sed -n 's/^kernels: /kernels: /p')"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# fit_timed FILE ARGS... runs recs fit under /usr/bin/time and sets ITER_MED
# (median seconds of the iteration log lines) and RSS_MB.
fit_timed() {
	local file=$1 tf out err
	shift
	tf=$(mktemp); out=$(mktemp); err=$(mktemp)
	/usr/bin/time -v -o "$tf" "$RECS" --log-format json fit "$file" "$@" --rank "$RANK" --max-iter "$ITERS" \
		--threads "$THREADS" --json -o "$BENCH_DIR/model" > "$out" 2> "$err" || {
		echo "bench-scale: recs fit $file $* failed:" >&2; cat "$err" >&2; exit 1; }
	RSS_MB=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$tf")
	ITER_MED=$({ grep '"msg":"iteration"' "$err" || true; } | { grep -o '"seconds":[0-9.e+-]*' || true; } | cut -d: -f2 | sort -g |
		awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}')
	rm -f "$tf" "$out" "$err"
}

row() { printf '%-10s %10s %9s %9s  %-9s %8s %10s\n' "$@"; }
results=$BENCH_DIR/results.tsv
: > "$results"
row "ratings" "users" "items" "mode" "" "s/it" "peak MB"
for m in $SIZES; do
	n=$((m * 1000000))
	users=$((n / 144))
	items=$(awk -v n="$n" 'BEGIN {printf "%d", 26744 * sqrt(n / 20e6)}')
	data=$BENCH_DIR/synth-${m}m.parquet
	[ -s "$data" ] || "$RECS" --quiet synth --preset ml-20m --ratings "$n" --users "$users" --items "$items" --seed 1 -o "$data"
	fit_timed "$data" --reg 0.05
	row "${m}M" "$users" "$items" "explicit" "" "$ITER_MED" "$RSS_MB"
	printf 'explicit\t%s\t%s\t%s\n' "$n" "$ITER_MED" "$RSS_MB" >> "$results"
	fit_timed "$data" --implicit --alpha 2 --reg 50 --reg-mode plain --solver cg --cg-steps 3
	row "${m}M" "$users" "$items" "implicit" "cg-3" "$ITER_MED" "$RSS_MB"
	printf 'implicit\t%s\t%s\t%s\n' "$n" "$ITER_MED" "$RSS_MB" >> "$results"
	[ "$KEEP_DATA" = 1 ] || rm -f "$data"
done
rm -rf "$BENCH_DIR/model"
echo

# Least squares y = a + b·n over the sizes, per mode, for seconds and MB;
# R² says how straight the line is.
echo "least-squares lines (n = ratings):"
awk -F'\t' -v ram="16 64 256" '
function fit(mode, col,   i, sx, sy, sxx, sxy, k, mx, my, b, a, ssr, sst, r2, x, y) {
	k = 0; sx = sy = sxx = sxy = 0
	for (i = 1; i <= N; i++) if (M[i] == mode) { x = X[i]; y = (col == 3 ? S[i] : R[i]); k++; sx += x; sy += y; sxx += x*x; sxy += x*y }
	if (k < 2) return 0
	mx = sx / k; my = sy / k
	b = (sxy - k*mx*my) / (sxx - k*mx*mx); a = my - b*mx
	ssr = sst = 0
	for (i = 1; i <= N; i++) if (M[i] == mode) { x = X[i]; y = (col == 3 ? S[i] : R[i]); ssr += (y - a - b*x)^2; sst += (y - my)^2 }
	r2 = (sst > 0 ? 1 - ssr/sst : 1)
	A[mode, col] = a; B[mode, col] = b
	if (col == 3) printf "  %-8s s/it = %.3f + %.4f s per million ratings   (R² %.4f)\n", mode, a, b*1e6, r2
	else          printf "  %-8s MB   = %.0f + %.1f MB per million ratings  (R² %.4f, %.0f bytes per rating)\n", mode, a, b*1e6, r2, b*1048576
	return 1
}
{ N++; M[N] = $1; X[N] = $2; S[N] = $3; R[N] = $4 }
END {
	if (N < 4) { print "  (needs at least two sizes)"; exit }
	fit("explicit", 3); fit("implicit", 3); fit("explicit", 4); fit("implicit", 4)
	# the more demanding memory line decides
	mode = (B["explicit",4] >= B["implicit",4] ? "explicit" : "implicit")
	print ""
	printf "largest data set per machine (a + b·n ≤ 0.8·RAM, %s memory line; time per iteration from each mode'"'"'s line):\n", mode
	printf "  %-8s %14s %14s %14s\n", "RAM", "max ratings", "explicit s/it", "implicit s/it"
	split(ram, G, " ")
	for (g = 1; g <= 3; g++) {
		n = (0.8 * G[g] * 1024 - A[mode,4]) / B[mode,4]
		printf "  %-8s %13.0fM %14.1f %14.1f\n", G[g] " GB", n/1e6, A["explicit",3] + B["explicit",3]*n, A["implicit",3] + B["implicit",3]*n
	}
}' "$results"
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg) (seconds are upper bounds when it exceeds the core count)"

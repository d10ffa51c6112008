#!/usr/bin/env bash
# make demo: builds bin/recs (`make build`; on first use the go command
# downloads the Go modules, 136 MB measured, into its module cache), then runs
# the main job on the built-in defaults with no network and no services:
# synthesises an ml-100k-sized data set, runs `recs train` into
# demo-out/runs (publishing to the local-files sink in demo-out/published)
# and writes the HTML report. Prints how long the build and the demo took.
set -euo pipefail
cd "$(dirname "$0")/.."
recs=./bin/recs
out=demo-out
bstart=$(date +%s.%N)
"${MAKE:-make}" --no-print-directory build
bend=$(date +%s.%N)
mkdir -p "$out"
start=$(date +%s.%N)
$recs synth --preset ml-100k --seed 42 -o "$out/ratings.csv"
$recs train "$out/ratings.csv" --runs "$out/runs" --keep 5 \
	--publish dir --publish-dir "$out/published" --report
end=$(date +%s.%N)
run=$(readlink "$out/runs/latest")
echo
echo "run directory:  $out/runs/$run"
echo "report:         $out/runs/$run/report.html"
echo "published:      $out/published/manifest.json"
cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo "?")
awk -v bs="$bstart" -v be="$bend" -v s="$start" -v e="$end" -v c="$cores" \
	'BEGIN { printf "build took %.1f s, demo took %.1f s (%s cores)\n", be - bs, e - s, c }'
echo "serve it:       $recs serve --from $out/runs/latest --addr 127.0.0.1:8080"

#!/usr/bin/env bash
# make demo: the main job on the built-in defaults, on a fresh machine with
# no network and no services. Synthesises an ml-100k-sized data set, runs
# `recs train` into demo-out/runs (publishing to the local-files sink in
# demo-out/published) and writes the HTML report.
set -euo pipefail
cd "$(dirname "$0")/.."
recs=./bin/recs
out=demo-out
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
awk -v s="$start" -v e="$end" 'BEGIN { printf "demo took %.1f s (2 cores)\n", e - s }'
echo "serve it:       $recs serve --from $out/runs/latest --addr 127.0.0.1:8080"

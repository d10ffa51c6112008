#!/usr/bin/env bash
# make test-stress: runs the test packages $STRESS_COUNT times in a row
# (default 10, go test -count) while two CPU hogs run beside them (stress-ng
# --cpu 2, or two shell busy loops without it), so that any assertion that
# depends on the machine's speed or on scheduling shows up. Usage:
# test-stress.sh [packages] (default ./...; also $STRESS_PKGS).
# Ends with the count of test runs that passed and failed.
set -uo pipefail
cd "$(dirname "$0")/.."
count=${STRESS_COUNT:-10}
read -r -a pkgs <<<"${*:-${STRESS_PKGS:-./...}}"
out=${TESTOUT:-.test-results}/stress
mkdir -p "$out"
go build -o "$out/testsum" ./scripts/testsum || exit 1
export RECS_BIN=$PWD/bin/recs

hogs=()
stop_hogs() {
	[ ${#hogs[@]} -eq 0 ] || kill "${hogs[@]}" 2>/dev/null
	wait 2>/dev/null
}
trap stop_hogs EXIT
if command -v stress-ng >/dev/null; then
	stress-ng --cpu 2 --quiet &
	hogs+=($!)
	hog="stress-ng --cpu 2"
else
	for _ in 1 2; do
		sh -c 'while :; do :; done' &
		hogs+=($!)
	done
	hog="two busy loops"
fi
echo "== go test -count=$count ${pkgs[*]} beside $hog; load $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)
go test -count="$count" -timeout 60m -json "${pkgs[@]}" | tee "$out/go.json" | "$out/testsum" -tally=false
echo "== $(( $(date +%s) - start ))s; load $(cut -d' ' -f1-3 /proc/loadavg)"
"$out/testsum" -progress=false -slow 10 "$out/go.json"

#!/usr/bin/env bash
# Runs every Go fuzz target in the module briefly (default 3s each): enough
# to replay the seed corpus and explore a little. Usage: fuzz.sh [FUZZTIME]
# With FUZZ_JSON=file, each run's `go test -json` output is appended there
# (scripts/test.sh counts them with the other tests) instead of printed.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-3s}
found=0 failed=0
while IFS= read -r file; do
	pkg=./$(dirname "$file")
	for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/'); do
		found=$((found+1))
		echo "fuzz $pkg $target ($fuzztime)"
		status=0
		if [ -n "${FUZZ_JSON:-}" ]; then
			go test -json -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg" >>"$FUZZ_JSON" || status=$?
		else
			go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg" || status=$?
		fi
		if [ "$status" -ne 0 ]; then
			failed=$((failed+1))
			echo "fuzz FAILED: $pkg $target (a new input that fails is under $pkg/testdata/fuzz/$target/)"
		fi
	done
done < <(git ls-files '*_test.go' 2>/dev/null | xargs grep -l '^func Fuzz' 2>/dev/null || true)
echo "fuzz: $found targets, $failed failed"
[ "$failed" -eq 0 ]

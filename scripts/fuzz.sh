#!/usr/bin/env bash
# Runs every Go fuzz target in the module briefly (default 3s each): enough
# to replay the seed corpus and explore a little. Usage: fuzz.sh [FUZZTIME]
# FUZZ_ONLY=regexp runs only the targets whose "pkg target" matches.
# With FUZZ_JSON=file, each run's `go test -json` output is appended there
# (scripts/test.sh counts them with the other tests) instead of printed.
#
# A failure counts when its saved input reproduces it. Go's fuzzer also
# fails runs with no bug in the code and no input saved: when a worker
# process stops answering for 10 s, which a busy machine can cause
# ("fuzzing process hung or terminated unexpectedly", golang/go#56238), and
# when -fuzztime runs out while a worker is mid-call ("context deadline
# exceeded", a race in the coordinator, golang/go#75804, fixed in Go 1.27;
# seen here with go1.26.8 on a 180 s run of FuzzWriteParquet that
# passed on a re-run). So when a run fails, the input
# it wrote under testdata/fuzz/ is replayed with plain `go test -run`: if
# the replay fails too, the failure stands and the input stays for the
# regression suite; if it passes (or no input was written), the input is
# removed, the first run's output is printed as a warning, and the target
# is run once more, whose result counts.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-3s}
found=0 failed=0

# fuzz_once PKG TARGET LOG: one fuzzing run; its output goes to LOG.
fuzz_once() {
	local json=()
	[ -n "${FUZZ_JSON:-}" ] && json=(-json)
	go test "${json[@]}" -run='^$' -fuzz="^$2\$" -fuzztime="$fuzztime" "$1" >"$3" 2>&1
}

# new_inputs DIR: the files under DIR that git does not track (inputs the
# fuzzer wrote in this run).
new_inputs() {
	[ -d "$1" ] || return 0
	git ls-files --others --exclude-standard -- "$1"
}

emit() { # LOG: the run's output, to FUZZ_JSON or stdout
	if [ -n "${FUZZ_JSON:-}" ]; then cat "$1" >>"$FUZZ_JSON"; else cat "$1"; fi
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
while IFS= read -r file; do
	pkg=./$(dirname "$file")
	for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/'); do
		[[ "$pkg $target" =~ ${FUZZ_ONLY:-.} ]] || continue
		found=$((found+1))
		echo "fuzz $pkg $target ($fuzztime)"
		corpus=$pkg/testdata/fuzz/$target
		before=$(new_inputs "$corpus")
		if fuzz_once "$pkg" "$target" "$log"; then
			emit "$log"
			continue
		fi
		reproduced=0
		for input in $(comm -13 <(echo "$before") <(new_inputs "$corpus")); do
			if go test -run="^$target/$(basename "$input")\$" "$pkg" >/dev/null 2>&1; then
				rm -f "$input" # not reproducible: not a regression input
			else
				reproduced=1
			fi
		done
		if [ "$reproduced" -eq 1 ]; then
			emit "$log"
			failed=$((failed+1))
			echo "fuzz FAILED: $pkg $target (the failing input is under $corpus/; run go test -run=$target $pkg)"
			continue
		fi
		echo "fuzz WARNING: $pkg $target failed, but not reproducibly (its input, if any, passes on replay); running it once more. First run's output:"
		grep -v '^{' "$log" | tail -n 20 || true
		grep -o '"Output":"[^"]*hung[^"]*"' "$log" | head -n 3 || true
		if fuzz_once "$pkg" "$target" "$log"; then
			emit "$log"
		else
			emit "$log"
			failed=$((failed+1))
			echo "fuzz FAILED: $pkg $target failed twice"
		fi
	done
done < <(git ls-files '*_test.go' 2>/dev/null | xargs grep -l '^func Fuzz' 2>/dev/null || true)
echo "fuzz: $found targets, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# make test: every check, in one command, on what `make test-deps
# emulator-deps build` prepared. Runs each step even when an earlier one
# failed, and ends with one line counting tests: `N passed, N failed`.
#
#   lint   go vet, gofmt, go mod tidy -diff, and go build ./... for
#          windows/amd64 and darwin/arm64 (each counted as a test)
#   go     go test -race over every package, packages in parallel (-p);
#          the end-to-end scripts (cli) and the static-binary check
#          (deploy) use bin/recs, built once, through $RECS_BIN. The
#          MovieLens 100k quality tests (names with ML100K) run in a second
#          go test without -race, beside the first: they are long numeric
#          runs (a 100-trial search, rank-64 fits) of code whose concurrency
#          the race-enabled tests already cover on small data, and the race
#          detector made them 5-10x slower (4.5 of the 7 CPU-minutes).
#   fuzz   every fuzz target for $FUZZTIME (default 3s)
#   arm64  the als and topk tests for GOARCH=arm64 under user-mode QEMU
#          (the NEON kernels against the gonum/portable ones;
#          scripts/test-arm64.sh installs qemu-user when missing)
#   s390x  the ratings tests big-endian (GOARCH=s390x) under user-mode
#          QEMU, after arm64 (same qemu-user): the Parquet writer uses the
#          columns' own memory as their little-endian encoding only on
#          little-endian machines and encodes byte by byte elsewhere
#
# Results (`go test -json`) are kept in $TESTOUT (default .test-results/).
# Missing test inputs (MovieLens 100k, numpy_als.py beside the module;
# internal/testenv finds them) skip with the reason, or fail when CI is set.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${TESTOUT:-.test-results}
fuzztime=${FUZZTIME:-3s}
jobs=${TEST_P:-3}
rm -rf "$out" && mkdir -p "$out"
start=$(date +%s)
elapsed() { echo "$(( $(date +%s) - start ))s"; }

go build -o "$out/testsum" ./scripts/testsum || exit 1
export RECS_BIN=$PWD/bin/recs
[ -x "$RECS_BIN" ] || { echo "test.sh: no $RECS_BIN (run make build)"; exit 1; }

# A step that is not `go test` records its outcome as one test event.
record() { # name status
	local action=pass
	[ "$2" -eq 0 ] || action=fail
	printf '{"Action":"%s","Package":"lint","Test":"%s"}\n' "$action" "$1" >>"$out/lint.json"
}

# The steps run two at a time or more, so that neither core idles while a
# step waits on a single-threaded part (linking, QEMU, a fuzz target):
# lint, the race-enabled tests and the quality tests together, then
# fuzzing and the arm64 suite together.
lint() {
	go vet ./...
	record "go vet" $?
	unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './testdata/*'))
	[ -z "$unformatted" ] || printf 'gofmt would change:\n%s\n' "$unformatted"
	record gofmt "$([ -z "$unformatted" ]; echo $?)"
	go mod tidy -diff
	record "go mod tidy -diff" $?
	# The product builds wherever people run it: Windows and macOS on Apple
	# silicon (the tests themselves run here, and for arm64 under QEMU).
	GOOS=windows GOARCH=amd64 go build ./...
	record "build windows/amd64" $?
	GOOS=darwin GOARCH=arm64 go build ./...
	record "build darwin/arm64" $?
}

# arm64 runs the NEON kernels' tests (and the fits that use them) under
# user-mode QEMU; the rest of als is architecture-independent Go that the
# amd64 run covers.
arm64() {
	./scripts/test-arm64.sh -json -run 'Tier|NEON|Kernel|Reference|Deterministic|Align|Cholesky|CG|Each|Agree|Registered' > "$out/arm64.json"
	local rc=$?
	if [ $rc -ne 0 ] && ! grep -q '"Action":"fail"' "$out/arm64.json"; then
		# It failed before any test ran (no QEMU in CI): one failed test.
		printf '{"Action":"fail","Package":"arm64","Test":"test-arm64"}\n' >>"$out/arm64.json"
	fi
}

# s390x runs the ratings package's tests on a big-endian machine under
# user-mode QEMU; its packages are reported as s390x:<package>.
s390x() {
	local qemu
	qemu=$(command -v qemu-s390x || command -v qemu-s390x-static || true)
	if [ -z "$qemu" ]; then
		if [ -n "${CI:-}" ]; then
			printf '{"Action":"fail","Package":"s390x","Test":"test-s390x"}\n' >"$out/s390x.json"
			echo "test.sh: FAIL: qemu-s390x is missing (Debian's qemu-user)"
		else
			echo "test.sh: SKIP s390x: qemu-s390x is missing (install qemu-user)"
		fi
		return
	fi
	CGO_ENABLED=0 GOARCH=s390x go test -count=1 -exec "$qemu" -json ./ratings |
		sed 's/"Package":"/"Package":"s390x:/' > "$out/s390x.json"
	local rc=${PIPESTATUS[0]}
	if [ "$rc" -ne 0 ] && ! grep -q '"Action":"fail"' "$out/s390x.json"; then
		printf '{"Action":"fail","Package":"s390x","Test":"test-s390x"}\n' >>"$out/s390x.json"
	fi
}

quality='ML100K|ML100k'
echo "== lint, go test -race -p $jobs ./..., and go test -run '$quality' ($(elapsed))"
lint > "$out/lint.log" 2>&1 &
CGO_ENABLED=1 go test -race -count=1 -p "$jobs" -timeout 20m -skip "$quality" -json ./... |
	tee "$out/go.json" | "$out/testsum" -tally=false &
qpkgs=$(git grep -l -E "^func Test[A-Za-z0-9_]*($quality)" -- '*_test.go' | xargs -n1 dirname | sort -u | sed 's|^|./|')
go test -count=1 -p 1 -timeout 20m -run "$quality" -json $qpkgs |
	tee "$out/quality.json" | "$out/testsum" -tally=false &
wait
cat "$out/lint.log"

echo "== fuzz, $fuzztime per target, and the arm64 (NEON) and s390x (big-endian) suites under QEMU ($(elapsed))"
{ arm64; s390x; } &
FUZZ_JSON=$out/fuzz.json ./scripts/fuzz.sh "$fuzztime"
wait

echo "== summary ($(elapsed) in all)"
"$out/testsum" -progress=false -slow 10 "$out"/*.json

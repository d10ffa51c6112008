# recs — see README.md. `make demo` runs the main job, `make test` every test.
GO        ?= go
BIN       := bin/recs
EMU_DIR   := testdata/emulators
FUZZTIME  ?= 3s
export CGO_ENABLED ?= 0

.PHONY: all build test test-deps test-stress test-go test-arm64 lint fuzz demo bench bench-ingest bench-als bench-eval bench-export bench-serve bench-scale emulator-deps clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o $(BIN) ./cmd/recs

# Installs the pinned emulators (Azurite, @vercel/cosmosdb-server) from the
# committed package-lock; the Go tests start and stop them on 127.0.0.1.
# npm ci runs only when node_modules was not installed from this very
# package-lock (a copy of it is kept there as a stamp): npm ci always
# deletes and reinstalls, which costs 20 s of a warm `make test`.
emulator-deps:
	@if [ -f $(EMU_DIR)/package-lock.json ] && \
		! cmp -s $(EMU_DIR)/package-lock.json $(EMU_DIR)/node_modules/.recs-installed-lock; then \
		cd $(EMU_DIR) && (npm ci --no-audit --no-fund --loglevel=error >/dev/null || npm ci --no-audit --no-fund) && \
		cp package-lock.json node_modules/.recs-installed-lock; fi

# System packages the tests need (Debian's python3-numpy and redis-server),
# installed when missing (apt-get, as root); see the script.
test-deps:
	@./scripts/test-deps.sh

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# The Go tests alone (what scripts/test.sh runs as its second step).
test-go: build
	CGO_ENABLED=1 RECS_BIN=$(CURDIR)/$(BIN) $(GO) test -race -count=1 ./...

fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

# The arm64 (NEON) kernels of als and topk, tested under user-mode QEMU;
# installs qemu-user when missing (see the script). Also a step of
# scripts/test.sh.
test-arm64:
	./scripts/test-arm64.sh

# Every check, one command (CI runs exactly this): lint, go test -race with
# the emulators, fuzzing for FUZZTIME per target; ends with `N passed, N
# failed` counting tests. See scripts/test.sh. The arm64 suite under QEMU
# (test-arm64) is one of its steps.
test: test-deps emulator-deps build
	@FUZZTIME=$(FUZZTIME) ./scripts/test.sh

# Not part of `make test`: every package 10 times in a row (-count=10)
# while two CPU hogs run, to show no test depends on the machine's speed.
# STRESS_PKGS narrows it (default ./...), STRESS_COUNT changes the count.
test-stress: emulator-deps build
	@./scripts/test-stress.sh

# Builds bin/recs (timed: the first build downloads the Go modules) and
# runs the main job; prints both times.
demo:
	@MAKE="$(MAKE)" ./scripts/demo.sh

bench: bench-ingest bench-als bench-eval bench-export bench-serve

bench-ingest: build
	./scripts/bench-ingest.sh

bench-als: build
	./scripts/bench-als.sh

bench-eval: build
	./scripts/bench-eval.sh

bench-export: build emulator-deps test-deps
	./scripts/bench-export.sh

bench-serve: build
	./scripts/bench-serve.sh

# The one-machine envelope: recs fit memory and s/it at 1M..50M ratings (not
# part of `make bench`: about 15 minutes and 1 GB of synthetic data).
bench-scale: build
	./scripts/bench-scale.sh

clean:
	rm -rf bin demo-out

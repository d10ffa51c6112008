# recs — see README.md. `make demo` runs the main job, `make test` every test.
GO        ?= go
BIN       := bin/recs
EMU_DIR   := testdata/emulators
FUZZTIME  ?= 3s
export CGO_ENABLED ?= 0

.PHONY: all build test test-go test-arm64 lint fuzz demo bench bench-ingest bench-als bench-eval bench-export bench-serve emulator-deps test-deps clean

all: build

build:
	$(GO) build -trimpath -ldflags "-s -w" -o $(BIN) ./cmd/recs

# Installs the pinned emulators (Azurite, @vercel/cosmosdb-server) from the
# committed package-lock; the Go tests start and stop them on 127.0.0.1.
emulator-deps:
	@if [ -f $(EMU_DIR)/package-lock.json ]; then \
		cd $(EMU_DIR) && (npm ci --no-audit --no-fund --loglevel=error >/dev/null || npm ci --no-audit --no-fund); fi

# System packages the tests need (Debian's redis-server); see the script.
test-deps:
	./scripts/install-test-deps.sh

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

test-go:
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...

fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

# The arm64 (NEON) kernels of als and topk, tested under user-mode QEMU;
# installs qemu-user when missing (see the script).
test-arm64:
	./scripts/test-arm64.sh

test: test-deps emulator-deps lint test-go fuzz

demo: build
	./scripts/demo.sh

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

clean:
	rm -rf bin demo-out

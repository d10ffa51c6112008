#!/usr/bin/env bash
# Runs the tests of the packages with arm64 assembly (als, topk) for arm64
# under user-mode QEMU: the NEON kernels are checked against the portable
# ones for correctness (not speed). Extra arguments go to go test, e.g.
# `scripts/test-arm64.sh -tags purego` for the portable tiers alone.
#
# Without qemu-aarch64 it installs Debian's qemu-user (as root, or with
# passwordless sudo). If that fails it exits non-zero when $CI is set, and
# otherwise prints why it skips and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."

find_qemu() {
	command -v qemu-aarch64 || command -v qemu-aarch64-static || true
}

qemu=$(find_qemu)
if [ -z "$qemu" ]; then
	echo "test-arm64: qemu-aarch64 not found; installing Debian's qemu-user" >&2
	if [ "$(id -u)" -eq 0 ]; then
		sudo=()
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		sudo=(sudo -n)
	else
		sudo=(false)
	fi
	if command -v apt-get >/dev/null; then
		"${sudo[@]}" apt-get update -q >&2 && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q qemu-user >&2 || true
	fi
	qemu=$(find_qemu)
fi
if [ -z "$qemu" ]; then
	msg="qemu-aarch64 is missing and could not be installed (needs apt-get and root): install qemu-user"
	if [ -n "${CI:-}" ]; then
		echo "test-arm64: FAIL: $msg" >&2
		exit 1
	fi
	echo "test-arm64: SKIP: $msg" >&2
	exit 0
fi

echo "test-arm64: CGO_ENABLED=0 GOARCH=arm64 go test -count=1 -exec $qemu${*:+ $*} ./als ./topk" >&2
CGO_ENABLED=0 GOARCH=arm64 go test -count=1 -exec "$qemu" "$@" ./als ./topk

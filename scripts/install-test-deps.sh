#!/usr/bin/env bash
# Installs the system packages the tests need beyond Go and Node.js:
# Debian's redis-server (the tests of the Redis target and source start it
# on 127.0.0.1 themselves; see internal/emulator). Idempotent: does nothing
# when everything is there. Without root (or sudo) it only says what is
# missing; the tests then skip, except in CI (CI set), where they fail.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo="sudo -n"
	else
		echo "install-test-deps: missing ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root" >&2
		[ -n "${CI:-}" ] && exit 1
		exit 0
	fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-test-deps: missing ${missing[*]} and no apt-get; install them with your package manager" >&2
	[ -n "${CI:-}" ] && exit 1
	exit 0
fi
echo "install-test-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
# --no-install-recommends: the server alone; the tests start their own
# instance, so a system service (if the package starts one) is not used.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
command -v redis-server >/dev/null

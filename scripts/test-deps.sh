#!/usr/bin/env bash
# Installs the system packages the tests need beyond Go and Node.js, when
# missing (idempotent: does nothing when everything is there):
#   - Debian's python3-numpy, for the NumPy ALS reference (numpy_als.py)
#     that als/quality_test.go compares against; Debian's /usr/bin/python3
#     is the one checked (and the one the tests prefer): a python3 earlier
#     on PATH, such as pyenv's, has its own packages;
#   - Debian's redis-server, which the tests of the Redis target and source
#     start on 127.0.0.1 themselves (internal/emulator).
# Needs root or passwordless sudo (CI runs as root). Otherwise it says what
# is missing: the tests that need it then skip, except in CI (CI set),
# where this script fails.
set -euo pipefail
py=/usr/bin/python3
missing=()
{ [ -x $py ] && $py -c 'import numpy' 2>/dev/null; } || missing+=(python3-numpy)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ ${#missing[@]} -eq 0 ] && exit 0

fail() {
	echo "test-deps: $*" >&2
	[ -n "${CI:-}" ] && exit 1
	exit 0
}
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo="sudo -n"
	else
		fail "missing ${missing[*]}; install them (Debian: apt-get install ${missing[*]}) or run as root"
	fi
fi
command -v apt-get >/dev/null 2>&1 || fail "missing ${missing[*]} and no apt-get; install them with your package manager"
echo "test-deps: installing ${missing[*]} (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
# --no-install-recommends: the packages alone; the tests start their own
# redis-server, so a system service (if the package starts one) is unused.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
$py -c 'import numpy'
command -v redis-server >/dev/null

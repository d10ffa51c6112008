#!/usr/bin/env bash
# Installs what the tests need beyond Go and Node.js, when it is missing:
# Debian's python3-numpy, for the NumPy ALS reference (numpy_als.py) that
# als/quality_test.go compares against (python3 alone runs the metric
# cross-check). Needs root (CI runs as root); otherwise it says what to
# install, and the tests that need it skip, or fail when CI is set. Debian's
# /usr/bin/python3 is the one checked (and the one the tests prefer): a
# python3 earlier on PATH, such as pyenv's, has its own packages.
set -euo pipefail
py=/usr/bin/python3
missing=()
[ -x $py ] && $py -c 'import numpy' 2>/dev/null || missing+=(python3-numpy)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
	echo "test-deps: installing ${missing[*]} (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	$py -c 'import numpy'
else
	echo "test-deps: missing ${missing[*]}; install it (Debian: apt-get install ${missing[*]})," \
		"or the tests that need it skip (fail with CI set)" >&2
fi

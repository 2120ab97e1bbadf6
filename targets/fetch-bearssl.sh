#!/bin/sh
# Unpack Debian's BearSSL source package into DIR (once): the only crypto
# that runs on the emulated targets. Needs a deb-src entry for the Debian
# mirror and dpkg-dev (dpkg-source). Prints the source directory.
set -eu
dir=${1:?usage: fetch-bearssl.sh DIR}
mkdir -p "$dir"
found=$(find "$dir" -maxdepth 3 -path '*/inc/bearssl.h' 2>/dev/null | head -n 1)
if [ -z "$found" ]; then
    if ! (cd "$dir" && apt-get source bearssl >apt-get-source.log 2>&1); then
        echo "fetch-bearssl.sh: 'apt-get source bearssl' failed in $dir:" >&2
        tail -n 5 "$dir/apt-get-source.log" >&2
        echo "fetch-bearssl.sh: add a deb-src entry for the Debian mirror, run apt-get update," >&2
        echo "fetch-bearssl.sh: and install dpkg-dev (see docs/targets.md)" >&2
        exit 1
    fi
    found=$(find "$dir" -maxdepth 3 -path '*/inc/bearssl.h' | head -n 1)
    [ -n "$found" ] || { echo "fetch-bearssl.sh: no inc/bearssl.h after apt-get source" >&2; exit 1; }
fi
dirname "$(dirname "$found")"

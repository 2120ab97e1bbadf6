#!/bin/sh
# Configure and build the cross tree of one target:
#   targets/build.sh <lx106|rv32imc> <build-dir> [bearssl-source-dir]
# The BearSSL source defaults to <build-dir>/../bearssl-src (fetched there
# with apt-get source when absent).
set -eu
cpu=${1:?usage: build.sh <lx106|rv32imc> <build-dir> [bearssl-src]}
out=${2:?usage: build.sh <lx106|rv32imc> <build-dir> [bearssl-src]}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
bearssl=${3:-$("$here/fetch-bearssl.sh" "$out/../bearssl-src")}
cmake -S "$here" -B "$out" -DCMAKE_TOOLCHAIN_FILE="$here/$cpu/toolchain.cmake" \
    -DBEARSSL_SRC="$bearssl" >"$out/configure.log" 2>&1 || { cat "$out/configure.log"; exit 1; }
grep -E 'host-only' "$out/configure.log" || true
cmake --build "$out" -j2

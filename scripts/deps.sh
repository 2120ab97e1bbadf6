#!/usr/bin/env bash
# Install the Debian packages fota needs to build and test, only those missing.
# Usage: scripts/deps.sh [build|test|bench|all]   (default: test; bench: test + the
# load generators of bench/serve_vs_nginx.sh)
set -euo pipefail
what=${1:-test}
pkgs=(build-essential cmake pkg-config libmbedtls-dev libmicrohttpd-dev libbearssl-dev curl
      python3 openssl libsqlite3-dev libjansson-dev libdivsufsort-dev libpq-dev)
pkgs+=(libssl-dev) # ports/crypto/openssl.c: the host tools' crypto backend
if [ "$what" != build ]; then
  pkgs+=(nginx-light clang libclang-rt-14-dev valgrind sqlite3)
  pkgs+=(bsdiff xdelta3 zstd xz-utils) # bench/delta.sh compares with them
  pkgs+=(postgresql wrk) # the fleet on PostgreSQL (tests/fleet/pg.sh), bench/fleet.sh
  pkgs+=(chromium) # tests/browser: the fleet dashboard in a real browser
  command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm) # playwright-core drives it
fi
if [ "$what" = bench ] || [ "$what" = all ]; then
  pkgs+=(wrk nghttp2-client) # bench/serve_vs_nginx.sh (wrk is also in the test group)
fi
if [ "$what" = all ]; then
  pkgs+=(gcc-xtensa-lx106 binutils-xtensa-lx106 picolibc-xtensa-lx106-elf
         gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf picolibc-riscv64-unknown-elf
         qemu-system-misc dpkg-dev)
fi
SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
# The emulated-target tests build BearSSL from Debian's source package
# (apt-get source): that needs a deb-src entry for the same mirror.
if [ "$what" = all ] && ! grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "deps: adding deb-src entries beside the deb ones (for apt-get source bearssl)"
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
      $SUDO tee /etc/apt/sources.list.d/fota-debian-src.sources >/dev/null
  else
    grep -E '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' |
      $SUDO tee /etc/apt/sources.list.d/fota-debian-src.list >/dev/null
  fi
  need_update=1
fi
# tests/browser: playwright-core at the version package-lock.json pins (no
# browser download: the tests use Debian's chromium), after the packages.
browser_deps() {
  local dir
  dir=$(cd "$(dirname "$0")/../tests/browser" && pwd)
  [ "$what" != build ] || return 0
  cmp -s "$dir/package-lock.json" "$dir/node_modules/.fota-lock" 2>/dev/null && return 0
  echo "deps: npm ci in tests/browser"
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null &&
   cp package-lock.json node_modules/.fota-lock)
}
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  [ -n "${need_update:-}" ] && $SUDO apt-get update -qq
  browser_deps
  exit 0
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts nginx on port 80 after installing it; the tests run their own.
if command -v service >/dev/null 2>&1; then $SUDO service nginx stop >/dev/null 2>&1 || true; fi
browser_deps

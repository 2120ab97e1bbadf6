#!/usr/bin/env bash
# Benchmark: a full check-and-update of a 1.5 MiB image by the simulated
# device (`fota sim`: manifest, signature, download, flash writes with erase,
# SHA-256, read-back verify, activation, reboot, confirm, re-check) against
# the floor any updater pays: `curl -o` plus `sha256sum` of the same file from
# the same server on loopback. Both run side by side, alternating, against
# one `fota serve`.
#
#   bench/update_vs_curl.sh [BUILD_DIR] [ROUNDS]      (default: build, 15)
#
# Prints instructions (callgrind, one run each, client process only) and wall
# time (median of ROUNDS alternating runs) for both, and their ratios, as a
# markdown table; docs/bench.md holds a recorded run.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
rounds=${2:-15}
fota=$build/tools/fota
size=$((1536 * 1024))
for t in curl sha256sum valgrind python3; do
    command -v $t >/dev/null || { echo "bench: $t is missing"; exit 1; }
done
[ -x "$fota" ] || { echo "bench: build first ($fota missing)"; exit 1; }

work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT
. "$top/bench/lib.sh"
bench_serve_release
manifest=$base/bench/manifest.txt
image=$base/bench/firmware/bench-2.0.0.bin

run_fota() {
    "$@" "$fota" sim --quiet --dir "$work/dev" --factory "$work/v1.bin" --url "$manifest" \
        --key "$work/key.pub" --product bench --slot-size $((2 * 1024 * 1024)) >"$work/sim.out"
    grep -q "result: updated 1.0.0 -> 2.0.0 and confirmed" "$work/sim.out" ||
        { echo "bench: the update did not complete:"; cat "$work/sim.out"; exit 1; }
}
run_curl() {
    "$@" curl -s -o "$work/dl.bin" "$image"
    "$@" sha256sum "$work/dl.bin" >/dev/null
}

# Instructions: callgrind counts the client's instructions exactly (the server
# is another process and is not counted for either side).
cg() { valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" "$@" 2>&1 | sed -n 's/.*Collected : //p'; }
fota_instr=$(cg "$fota" sim --quiet --dir "$work/dev" --factory "$work/v1.bin" --url "$manifest" --key "$work/key.pub" --product bench --slot-size $((2 * 1024 * 1024)) | tail -1)
curl_instr=$(cg curl -s -o "$work/dl.bin" "$image" | tail -1)
sha_instr=$(cg sha256sum "$work/dl.bin" | tail -1)
base_instr=$((curl_instr + sha_instr))

# Wall time: alternate the two so both see the same machine state.
now_ns() { date +%s%N; }
fota_t=() curl_t=()
for _ in $(seq "$rounds"); do
    t0=$(now_ns); run_fota; t1=$(now_ns); fota_t+=($(((t1 - t0) / 1000)))
    t0=$(now_ns); run_curl; t1=$(now_ns); curl_t+=($(((t1 - t0) / 1000)))
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
fm=$(median "${fota_t[@]}")
cm=$(median "${curl_t[@]}")

ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
cat <<EOF2
| measure | fota sim (check + full update + reboot + confirm) | curl -o + sha256sum | ratio |
| --- | ---: | ---: | ---: |
| instructions (callgrind) | $fota_instr | $base_instr (curl $curl_instr + sha256sum $sha_instr) | $(ratio "$fota_instr" "$base_instr") |
| wall time, median of $rounds (µs) | $fm | $cm | $(ratio "$fm" "$cm") |

image: $size bytes; machine: $(nproc) cores, $(uname -m); date: $(date -u +%Y-%m-%d)
EOF2

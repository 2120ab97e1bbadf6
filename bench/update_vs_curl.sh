#!/usr/bin/env bash
# Benchmark: a full check-and-update of a 1.5 MiB image by the simulated
# device (`fota sim`: manifest, signature, download, flash writes with erase,
# SHA-256, read-back verify, activation, reboot, confirm, re-check) against
# the floor any updater pays: `curl -o` plus `sha256sum` of the same file from
# the same server on loopback. Both run side by side, alternating, against
# one `fota serve`.
#
#   bench/update_vs_curl.sh [--doc FILE] [BUILD_DIR] [ROUNDS]  (default: build, 15)
#
# Prints instructions (callgrind, one run each, client process only) and wall
# time (median of ROUNDS alternating runs) for both, and their ratios, as a
# markdown table, then where fota's instructions go: SHA-256 and ECDSA (the
# crypto backend's functions, inclusive) and the rest per image byte, and
# each backend's SHA-256 instructions per byte (bench/sha256_cost). With
# --doc it also replaces its section of FILE (docs/bench.md).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/doc_section.sh"
doc=
if [ "${1:-}" = --doc ]; then doc=$2; shift 2; fi
build=${1:-$top/build}
rounds=${2:-15}
fota=$build/tools/fota
size=$((1536 * 1024))
for t in curl sha256sum valgrind callgrind_annotate python3; do
    command -v $t >/dev/null || { echo "bench: $t is missing"; exit 1; }
done
[ -x "$fota" ] || { echo "bench: build first ($fota missing)"; exit 1; }

load=$(cut -d' ' -f1 /proc/loadavg)
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
cg() {
    local opts=()
    while [ "${1#--}" != "$1" ]; do opts+=("$1"); shift; done
    valgrind --tool=callgrind "${opts[@]}" --callgrind-out-file="$work/cg.%p" "$@" 2>&1 |
        sed -n 's/.*Collected : //p'
}
rm -f "$work"/cg.*
fota_instr=$(cg "$fota" sim --quiet --dir "$work/dev" --factory "$work/v1.bin" --url "$manifest" --key "$work/key.pub" --product bench --slot-size $((2 * 1024 * 1024)) | tail -1)
# The crypto backend's entry points, inclusive (they do not call each other).
fota_cg=$(ls "$work"/cg.*)
crypto_instr=$(callgrind_annotate --auto=no --inclusive=yes --threshold=100 "$fota_cg" 2>/dev/null |
    awk '$0 ~ /:(ossl|mbed|bear)_(sha256_(start|update|finish)|p256_verify) / {
             gsub(",", "", $1); s += $1 } END { print s + 0 }')
backend=$(callgrind_annotate --auto=no --inclusive=yes --threshold=100 "$fota_cg" 2>/dev/null |
    sed -n 's/.*:\(ossl\|mbed\|bear\)_sha256_update .*/\1/p' | head -1)
case $backend in ossl) backend=OpenSSL ;; mbed) backend=mbedTLS ;; bear) backend=BearSSL ;; *) backend=? ;; esac
rest_instr=$((fota_instr - crypto_instr))
# The agent alone: the same run collecting only inside fota_step() (the
# agent's entry point; the simulated bootloader and flash programming at
# boot run outside it), less the crypto beneath it; and of that, the
# portable core's own code (src/*.c, self cost).
rm -f "$work"/cg.*
step_instr=$(cg --toggle-collect=fota_step "$fota" sim --quiet --dir "$work/dev2" --factory "$work/v1.bin" --url "$manifest" --key "$work/key.pub" --product bench --slot-size $((2 * 1024 * 1024)) | tail -1)
step_cg=$(ls "$work"/cg.*)
step_crypto=$(callgrind_annotate --auto=no --inclusive=yes --threshold=100 "$step_cg" 2>/dev/null |
    awk '$0 ~ /:(ossl|mbed|bear)_(sha256_(start|update|finish)|p256_verify) / {
             gsub(",", "", $1); s += $1 } END { print s + 0 }')
step_core=$(callgrind_annotate --auto=no --threshold=100 "$step_cg" 2>/dev/null |
    awk -v top="$top" '$0 ~ "%\\) +(" top "/)?src/[^ /]*:" { gsub(",", "", $1); s += $1 }
                      END { print s + 0 }')  # paths under the cwd lose their prefix
agent_rest=$((step_instr - step_crypto))
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
per_byte() { python3 -c "print(f'{$1/$2:.2f}')"; }

# SHA-256 instructions per byte of each backend built: the difference of
# callgrind counts for 1 MiB and 5 MiB over the 4 MiB in between.
sha_rows=()
for b in mbedtls bearssl openssl; do
    [ -x "$build/bench/sha256_cost" ] || break
    "$build/bench/sha256_cost" $b 0 >/dev/null 2>&1 || continue
    one=$(cg "$build/bench/sha256_cost" $b 1 | tail -1)
    five=$(cg "$build/bench/sha256_cost" $b 5 | tail -1)
    sha_rows+=("| $b | $(per_byte $((five - one)) $((4 * 1048576))) |")
done
head -c 1048576 /dev/zero >"$work/1m"
head -c 5242880 /dev/zero >"$work/5m"
one=$(cg sha256sum "$work/1m" | tail -1)
five=$(cg sha256sum "$work/5m" | tail -1)

report() {
cat <<EOF2
| measure | fota sim (check + full update + reboot + confirm) | curl -o + sha256sum | ratio |
| --- | ---: | ---: | ---: |
| instructions (callgrind) | $fota_instr | $base_instr (curl $curl_instr + sha256sum $sha_instr) | $(ratio "$fota_instr" "$base_instr") |
| wall time, median of $rounds (µs) | $fm | $cm | $(ratio "$fm" "$cm") |

image: $size bytes; machine: $(nproc) cores, $(uname -m), load average $load at the start (other jobs share it); date: $(date -u +%Y-%m-%d)

Where fota sim's instructions go (crypto backend: $backend):

| part | instructions | per image byte |
| --- | ---: | ---: |
| SHA-256 and ECDSA (the backend's functions, inclusive) | $crypto_instr | $(per_byte "$crypto_instr" "$size") |
| everything else (agent, simulated flash and bootloader, process start) | $rest_instr | $(per_byte "$rest_instr" "$size") |
| the agent alone (inside \`fota_step\`) without SHA-256 and ECDSA: HTTP, state, records, its flash port on the simulated NOR | $agent_rest | $(per_byte "$agent_rest" "$size") |
| of which the portable core's own code (src/, self) | $step_core | $(per_byte "$step_core" "$size") |
| curl -o alone, for scale | $curl_instr | $(per_byte "$curl_instr" "$size") |

SHA-256 instructions per byte under callgrind (which hides the CPU's SHA
extensions: OpenSSL runs its AVX2 code here):

| backend | instructions / byte |
| --- | ---: |
$(printf '%s\n' "${sha_rows[@]}")
| coreutils sha256sum (whole process) | $(per_byte $((five - one)) $((4 * 1048576))) |
EOF2
}
report
if [ -n "$doc" ]; then
    {
        echo "## Full check and update vs \`curl -o\` + \`sha256sum\`"
        echo
        echo "Regenerated by \`bench/update_vs_curl.sh --doc docs/bench.md\`; what it runs is"
        echo "described in the script's header."
        echo
        report
    } | doc_section "$doc" update_vs_curl
fi

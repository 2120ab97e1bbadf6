#!/usr/bin/env bash
# Runs the libFuzzer targets one after another (one core at a time), each for
# a number of executions (default 10,000,000) or, with -t, for a time, and
# prints what each did. Exits non-zero when a target crashed or failed a check.
#
# Usage: tests/fuzz/run-long.sh [-b BUILD_DIR] [-n RUNS | -t SECONDS] [TARGET...]
#   BUILD_DIR  a build configured with CC=clang -DFOTA_FUZZ=ON (default: build-fuzz)
#   TARGET     http url manifest esp_image record checkin delta (default: all)
#
# Inputs that add coverage are kept in BUILD_DIR/tests/fuzz/corpus/TARGET (the
# seeds in tests/fuzz/corpus/ are only read); crashes are written to
# BUILD_DIR/tests/fuzz/artifacts/, full logs to BUILD_DIR/tests/fuzz/logs/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build="$here/../../build-fuzz"
runs=10000000
seconds=""

usage() {
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

while getopts b:n:t:h opt; do
    case $opt in
    b) build=$OPTARG ;;
    n) runs=$OPTARG ;;
    t) seconds=$OPTARG ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(http url manifest esp_image record checkin delta)

# Largest input per target: past the 32 KiB header block limit (http), a URL
# pair at the 4096-character limit (url), manifests and small images, patches
# of several blocks (delta).
declare -A max_len=([http]=40000 [url]=8193 [manifest]=4096 [esp_image]=4096 [record]=1024 [checkin]=4096 [delta]=65536)

dir="$build/tests/fuzz"
mkdir -p "$dir/logs" "$dir/artifacts"
status=0
printf '%-10s %-7s %12s %8s %10s %6s %7s\n' target result executions seconds exec/s cov corpus
for t in "${targets[@]}"; do
    exe="$dir/fuzz_$t"
    if [ -z "${max_len[$t]:-}" ]; then
        echo "unknown target '$t' (known: ${!max_len[*]})" >&2
        exit 2
    fi
    if [ ! -x "$exe" ]; then
        echo "$exe not built: configure with CC=clang cmake -S . -B <dir> -DFOTA_FUZZ=ON" >&2
        exit 2
    fi
    if [ -n "$seconds" ]; then limit="-max_total_time=$seconds"; else limit="-runs=$runs"; fi
    mkdir -p "$dir/corpus/$t"
    log="$dir/logs/$t.log"
    start=$(date +%s)
    rc=0
    "$exe" "$limit" -max_len="${max_len[$t]}" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$dir/artifacts/$t-" \
        "$dir/corpus/$t" "$here/corpus/$t" >"$log" 2>&1 || rc=$?
    elapsed=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    files=$(find "$dir/corpus/$t" -type f | wc -l)
    result=ok
    if [ $rc -ne 0 ]; then result=FAILED; status=1; fi
    rate=0
    [ "${execs:-0}" -gt 0 ] && [ "$elapsed" -gt 0 ] && rate=$((execs / elapsed))
    printf '%-10s %-7s %12s %8s %10s %6s %7s\n' "$t" "$result" "${execs:-?}" "$elapsed" \
        "$rate" "${cov:-?}" "$files"
    if [ $rc -ne 0 ]; then
        echo "--- $t exited with $rc; from $log:" >&2
        first=$(grep -n -m1 -E 'ERROR:|runtime error|deadly signal|==[0-9]+==' "$log" | cut -d: -f1)
        sed -n "${first:-1},\$p" "$log" | grep -v '^  0x\|^=>0x\|^Shadow\|^  [A-Z].*: *[0-9a-f]\{2\}' |
            head -n 40 >&2
        grep -E '^SUMMARY|Test unit written' "$log" >&2 || true
        ls -1 "$dir/artifacts/$t-"* 2>/dev/null | sed "s|^|reproduce: $exe |" >&2 || true
    fi
done
exit $status

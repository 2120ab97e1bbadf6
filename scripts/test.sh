#!/usr/bin/env bash
# The whole test suite: installs missing Debian packages, builds, and runs
# every ctest label twice: a normal build (gcc), then every test but the
# emulated-target ones again under AddressSanitizer + UBSan (clang), with the
# libFuzzer targets run for a bounded time, and the end-to-end tests once more
# under valgrind. Ends with one line
# "N passed, N failed" over all runs.
# Usage: scripts/test.sh            (FOTA_QUICK=1: the normal build only)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh" all || exit 1
passed=0 failed=0 status=0

# run_ctest NAME BUILD_DIR CMAKE_ARGS... -- CTEST_ARGS...
run_ctest() {
    local name=$1 build=$2
    shift 2
    local cmake_args=() ctest_args=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do cmake_args+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    ctest_args=("$@")
    printf '\n##### %s\n' "$name"
    if ! cmake -S "$top" -B "$build" "${cmake_args[@]}" >/dev/null ||
       ! cmake --build "$build" -j"$(nproc)" >"$build.log" 2>&1; then
        cat "$build.log"
        echo "test.sh: $name: build failed"
        failed=$((failed + 1)); status=1
        return
    fi
    (cd "$build" && ctest --output-on-failure -j2 --timeout 1200 "${ctest_args[@]}") | tee "$build.ctest.log"
    [ "${PIPESTATUS[0]}" = 0 ] || status=1
    local line p t
    line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$build.ctest.log" | tail -1)
    if [ -n "$line" ]; then
        t=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
        p=$(sed -E 's/.*, ([0-9]+) tests failed.*/\1/' <<<"$line")
        passed=$((passed + t - p)); failed=$((failed + p))
    fi
}

run_ctest "normal build (gcc, RelWithDebInfo): all labels" "$top/build" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo --
if [ "${FOTA_QUICK:-0}" != 1 ]; then
    # (package: cross compilers on the unpacked archives, nothing the host build changes)
    run_ctest "sanitizers (clang, ASan + UBSan) and bounded fuzzing: all but target, package" \
        "$top/build-asan" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DFOTA_SANITIZE=ON \
        -DFOTA_FUZZ=ON -- -LE "target|package"
    FOTA_VALGRIND=1 run_ctest "valgrind: end-to-end tests" "$top/build" -- -L e2e
fi
printf '\ntests: %d passed, %d failed\n' "$passed" "$failed"
exit $status

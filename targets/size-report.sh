#!/bin/sh
# Size, stack and RAM of the fota core on lx106 and rv32imc, with and
# without message text (FOTA_NO_MESSAGES).
#   targets/size-report.sh                 build both targets, write docs/size-report.md
#   targets/size-report.sh --check         build, then compare with targets/budget.txt
#   ... --build DIR                        use (and build into) DIR/<cpu> instead of
#                                          build/targets (ctest passes its tree)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=$root/build/targets
mode=write
while [ $# -gt 0 ]; do
    case $1 in
    --check) mode=check ;;
    --build) build=$2; shift ;;
    *) echo "usage: size-report.sh [--check] [--build DIR]" >&2; exit 2 ;;
    esac
    shift
done
for cpu in lx106 rv32imc; do
    "$here/build.sh" "$cpu" "$build/$cpu" >/dev/null
    # The core without message text (FOTA_NO_MESSAGES): measured beside it.
    small=$build/$cpu-no-messages
    bearssl=$("$here/fetch-bearssl.sh" "$build/bearssl-src")
    cmake -S "$here" -B "$small" -DCMAKE_TOOLCHAIN_FILE="$here/$cpu/toolchain.cmake" \
        -DBEARSSL_SRC="$bearssl" -DFOTA_NO_MESSAGES=ON >"$build/$cpu-no-messages.log" 2>&1 ||
        { cat "$build/$cpu-no-messages.log"; exit 1; }
    cmake --build "$small" -j2 --target fota_core fota_size_probe >>"$build/$cpu-no-messages.log" 2>&1 ||
        { cat "$build/$cpu-no-messages.log"; exit 1; }
done
if [ "$mode" = check ]; then
    exec python3 "$here/size_report.py" --build "$build" --root "$root" --check
fi
python3 "$here/size_report.py" --build "$build" --root "$root" --write "$root/docs/size-report.md" --show
echo "size-report.sh: wrote docs/size-report.md"

#!/usr/bin/env bash
# Patch sizes of fota's delta format against Debian's bsdiff, xdelta3 and
# zstd on every pair of shared/testdata/delta-pairs, plus the compressed
# image against gzip/xz/zstd, fota's decoder RAM, host encode times, and the
# decoder's instructions per output byte on rv32imc (QEMU, -icount shift=0,
# tests/target/test_delta_speed.c).
#
# Usage: bench/delta.sh [BUILD_DIR] [--update-doc]
#   BUILD_DIR     a host build with the fota tool (default: build); the
#                 rv32imc figure needs BUILD_DIR/targets/rv32imc (ctest -L target
#                 builds it) and qemu-system-riscv32, else it is left out
#   --update-doc  replace the recorded table in docs/delta.md with this run
# FOTA_SHARED: where shared/ is (default: ../shared beside the repository).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=$root/build
update_doc=0
for a in "$@"; do
    case $a in
    --update-doc) update_doc=1 ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) build=$(cd "$a" && pwd) ;;
    esac
done
fota=$build/tools/fota
shared=${FOTA_SHARED:-$root/../shared}
pairs=$shared/testdata/delta-pairs
[ -x "$fota" ] || { echo "delta.sh: $fota not built" >&2; exit 2; }
[ -d "$pairs" ] || { echo "delta.sh: no $pairs (set FOTA_SHARED)" >&2; exit 2; }
for t in bsdiff xdelta3 zstd xz gzip; do
    command -v $t >/dev/null || { echo "delta.sh: $t missing (scripts/deps.sh)" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/fota-delta-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", 100 * a / b }'; }
size() { stat -c %s "$1"; }

# The two files of a pair: README order is old -> new; sort by date-like name
# would be fragile, so take them from the README's table.
pair_files() {
    local dir=$1
    sed -n "s/^| \`$dir\/\` | \`\([^\`]*\)\` → \`\([^\`]*\)\`.*/\1 \2/p" "$pairs/README.md"
}

rows=()
packed_rows=()
ram=""
for d in "$pairs"/*/; do
    name=$(basename "$d")
    read -r old_name new_name < <(pair_files "$name") || true
    [ -n "${new_name:-}" ] || { echo "delta.sh: $name is not in $pairs/README.md" >&2; exit 2; }
    old=$d/$old_name
    new=$d/$new_name
    n=$(size "$new")

    t0=$(now)
    line=$("$fota" delta "$old" "$new" -o "$work/$name.fdp")
    t1=$(now)
    fota_t=$(secs "$t0" "$t1")
    ram=$(printf '%s\n' "$line" | sed -n 's/.*decoder RAM \([0-9]*\) bytes.*/\1/p')
    "$fota" patch "$old" "$work/$name.fdp" -o "$work/$name.check" >/dev/null
    cmp -s "$work/$name.check" "$new" || { echo "delta.sh: $name: patch does not rebuild" >&2; exit 1; }
    t0=$(now); bsdiff "$old" "$new" "$work/$name.bsdiff"; t1=$(now); bs_t=$(secs "$t0" "$t1")
    t0=$(now); xdelta3 -9 -S djw -f -e -s "$old" "$new" "$work/$name.xd3"; t1=$(now)
    xd_t=$(secs "$t0" "$t1")
    t0=$(now); zstd -q -f -19 --long=27 --patch-from="$old" "$new" -o "$work/$name.zst" 2>/dev/null; t1=$(now)
    zs_t=$(secs "$t0" "$t1")
    f=$(size "$work/$name.fdp"); b=$(size "$work/$name.bsdiff")
    x=$(size "$work/$name.xd3"); z=$(size "$work/$name.zst")
    rows+=("| $name | $(size "$old") → $n | **$f ($(pct "$f" "$n")%)** | $b ($(pct "$b" "$n")%) | $z ($(pct "$z" "$n")%) | $x ($(pct "$x" "$n")%) | $fota_t / $bs_t / $zs_t / $xd_t |")

    "$fota" compress "$new" -o "$work/$name.fdc" >/dev/null
    c=$(size "$work/$name.fdc")
    g=$(gzip -9 -c "$new" | wc -c); xz_=$(xz -9 -c "$new" | wc -c); z19=$(zstd -q -19 -c "$new" | wc -c)
    packed_rows+=("| $name ($new_name) | $n | **$c ($(pct "$c" "$n")%)** | $g ($(pct "$g" "$n")%) | $z19 ($(pct "$z19" "$n")%) | $xz_ ($(pct "$xz_" "$n")%) |")
done

# Instructions per output byte on rv32imc, decoding the first pair's patch.
ipb="not measured (needs $build/targets/rv32imc/test_delta_speed.elf and qemu-system-riscv32)"
elf=$build/targets/rv32imc/test_delta_speed.elf
first=$(ls -d "$pairs"/*/ | head -1)
first_name=$(basename "$first")
if [ -f "$elf" ] && command -v qemu-system-riscv32 >/dev/null; then
    read -r old_name new_name < <(pair_files "$first_name")
    cp "$first/$old_name" "$work/delta-bench-base.bin"
    cp "$work/$first_name.fdp" "$work/delta-bench-patch.bin"
    out=$(cd "$work" && timeout 600 qemu-system-riscv32 -M virt -cpu rv32,a=off,f=off,d=off \
        -bios none -icount shift=0 -nographic -monitor none -semihosting -kernel "$elf" 2>&1)
    ipb=$(printf '%s\n' "$out" | sed -n 's/.*(real pair).* \([0-9.]*\) per output byte.*/\1/p')
    [ -n "$ipb" ] || { echo "delta.sh: the rv32imc run failed:" >&2; echo "$out" >&2; exit 1; }
    ipb="$ipb instructions per output byte ($first_name patch, rv32imc -Os, minstret under QEMU -icount shift=0)"
fi

table=$(
    echo "Recorded $(date -u +%Y-%m-%d) by \`bench/delta.sh\` ($(nproc) cores, $(uname -m), Debian's bsdiff $(dpkg-query -W -f='${Version}' bsdiff 2>/dev/null || echo '?'), xdelta3 $(dpkg-query -W -f='${Version}' xdelta3 2>/dev/null || echo '?'), zstd $(dpkg-query -W -f='${Version}' zstd 2>/dev/null || echo '?')):"
    echo
    echo "| pair | bytes old → new | fota delta | bsdiff | zstd --patch-from -19 --long=27 | xdelta3 -9 -S djw | encode s (fota / bsdiff / zstd / xdelta3) |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | --- |"
    printf '%s\n' "${rows[@]}"
    echo
    echo "Compressed full images (no base):"
    echo
    echo "| image | bytes | fota compress | gzip -9 | zstd -19 | xz -9 |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${packed_rows[@]}"
    echo
    echo "fota decoder RAM: $ram bytes (struct fota_delta, all of it; no window: earlier output and the base are read back from flash). Decoder speed: $ipb."
)
printf '%s\n' "$table"

if [ $update_doc = 1 ]; then
    doc=$root/docs/delta.md
    begin='<!-- bench/delta.sh: begin -->'
    end='<!-- bench/delta.sh: end -->'
    grep -q "$begin" "$doc" || { echo "delta.sh: no '$begin' marker in $doc" >&2; exit 1; }
    printf '%s\n' "$table" >"$work/table"
    awk -v b="$begin" -v e="$end" -v f="$work/table" '
        $0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
        $0 == e { skip = 0 }
        !skip { print }' "$doc" >"$work/doc"
    cp "$work/doc" "$doc"
    echo "updated $doc"
fi

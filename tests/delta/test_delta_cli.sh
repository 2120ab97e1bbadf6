#!/usr/bin/env bash
# fota delta / patch / compress / release --delta-from on the real pairs of
# shared/testdata/delta-pairs (FOTA_SHARED overrides where shared/ is):
# patches and compressed images rebuild the new image byte for byte with the
# device's decoder; a wrong base, a truncated or a damaged patch is refused
# with its reason; a release lists every artifact in a format-2 manifest
# that verifies, and without artifacts stays format 1.
. "$(dirname "$0")/../e2e/lib.sh"
FOTA=${FOTA_BIN:?FOTA_BIN must point at the built fota tool}
SHARED=${FOTA_SHARED:-$FOTA_SRC/../shared}
PAIRS=$SHARED/testdata/delta-pairs
[ -d "$PAIRS" ] || { fail "shared test data missing: $PAIRS (set FOTA_SHARED)"; finish; }
dir=$(fota_tmpdir)
cd "$dir"

mp_old=$PAIRS/micropython-esp8266/esp8266-20180511-v1.9.4.bin
mp_new=$PAIRS/micropython-esp8266/esp8266-20190125-v1.10.bin
py_old=$PAIRS/pybv11/v1.10-firmware1.bin
py_new=$PAIRS/pybv11/1f5d945af-firmware1.bin

# run NAME EXPECTED_RC CMD...: stdout+stderr in $out
run() {
    local name=$1 want=$2 rc=0
    shift 2
    out=$("$@" 2>&1) || rc=$?
    expect_eq "$rc" "$want" "$name: exit status"
}

for pair in mp py; do
    eval old=\$${pair}_old new=\$${pair}_new
    run "$pair delta" 0 "$FOTA" delta "$old" "$new" -o "$pair.patch"
    expect_contains "$out" "$(stat -c %s "$new") bytes -> $(stat -c %s "$pair.patch") bytes" \
        "$pair delta: prints the sizes"
    expect_contains "$out" "decoder RAM" "$pair delta: prints the decoder's RAM"
    run "$pair patch" 0 "$FOTA" patch "$old" "$pair.patch" -o "$pair.new"
    expect_file_eq "$pair.new" "$new" "$pair patch: rebuilds the new image"
    run "$pair compress" 0 "$FOTA" compress "$new" -o "$pair.packed" --block-size 16384
    run "$pair unpack" 0 "$FOTA" patch "$pair.packed" -o "$pair.unpacked"
    expect_file_eq "$pair.unpacked" "$new" "$pair compressed: rebuilds the new image"
done

run "wrong base" 1 "$FOTA" patch "$py_old" mp.patch -o x.bin
expect_contains "$out" "FOTA_ERR_DELTA_BASE" "wrong base: named"
expect_eq "$(test -e x.bin && echo written || echo absent)" absent "wrong base: nothing written"
run "patch without its base" 1 "$FOTA" patch mp.patch -o x.bin
expect_contains "$out" "give the base image" "patch without its base: says what is missing"
head -c 40000 mp.patch >trunc.patch
run "truncated" 1 "$FOTA" patch "$mp_old" trunc.patch -o x.bin
expect_contains "$out" "truncated" "truncated: named"
cp mp.patch bad.patch
printf '\x5a' | dd of=bad.patch bs=1 seek=30000 conv=notrunc 2>/dev/null
run "damaged" 1 "$FOTA" patch "$mp_old" bad.patch -o x.bin
expect_contains "$out" "FOTA_ERR_DELTA_CORRUPT" "damaged: named"
printf 'not a patch at all, just some text that is long enough for a header .......' >junk
run "not a patch" 1 "$FOTA" patch "$mp_old" junk -o x.bin
expect_contains "$out" "not a fota patch" "not a patch: named"
run "usage" 2 "$FOTA" delta "$mp_old" -o x
run "bad block size" 2 "$FOTA" delta "$mp_old" "$mp_new" -o x --block-size 1000

# A release with a patch and a compressed image
"$FOTA" keygen -o key >/dev/null
run "release without artifacts" 0 "$FOTA" release --key key.key --product mp --out rel \
    --version 1.9.4 "$mp_old"
expect_eq "$(head -1 rel/mp/manifest.txt)" "fota-manifest: 1" "no artifacts: format 1"
run "release --delta-from" 0 "$FOTA" release --key key.key --product mp --out rel \
    --version 1.10 "$mp_new" --delta-from "$mp_old" --delta-from "$py_old"
m=$(cat rel/mp/manifest.txt)
expect_eq "$(head -1 rel/mp/manifest.txt)" "fota-manifest: 2" "artifacts: format 2"
expect_eq "$(grep -c '^artifact: ' rel/mp/manifest.txt)" 3 "a compressed image and two patches"
mp_old_sha=$(sha256sum "$mp_old" | cut -d' ' -f1)
patch_file=rel/mp/firmware/mp-1.10.from-${mp_old_sha:0:16}.patch
expect_contains "$m" "artifact: delta $(stat -c %s "$patch_file") $(sha256sum "$patch_file" | cut -d' ' -f1) firmware/mp-1.10.from-${mp_old_sha:0:16}.patch $(stat -c %s "$mp_old") $mp_old_sha" \
    "the patch line: size, hash, url, base size and hash"
packed=rel/mp/firmware/mp-1.10.compressed
expect_contains "$m" "artifact: compressed $(stat -c %s "$packed") $(sha256sum "$packed" | cut -d' ' -f1) firmware/mp-1.10.compressed" \
    "the compressed line"
run "released patch applies" 0 "$FOTA" patch "$mp_old" "$patch_file" -o rel.bin
expect_file_eq rel.bin "$mp_new" "the released patch rebuilds the release"
run "inspect" 0 "$FOTA" inspect rel/mp/manifest.txt --key key.pub
expect_contains "$out" "signature:        valid" "inspect: signature valid"
expect_eq "$(printf '%s\n' "$out" | grep -c 'matches (size and sha256)')" 4 \
    "inspect: the image and the three artifacts match"
run "same base twice" 1 "$FOTA" release --key key.key --product mp --out rel2 \
    --version 1.10 "$mp_new" --delta-from "$mp_old" --delta-from "$mp_old"
expect_contains "$out" "repeats" "same base twice: refused"
finish

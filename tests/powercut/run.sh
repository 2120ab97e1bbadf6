#!/usr/bin/env bash
# tests/powercut/run.sh SUITE... [--report FILE] [--doc FILE]
#
# Power-cut tests of a whole update (see docs/powercut.md). Makes a key and
# three 256 KiB ESP32 images with the real fota tool (1.0.0; 2.0.0 with
# security counter 1; a 2.0.0 that crashes before confirming), releases them
# into two trees with `fota release`, and runs the powercut harness
# (tests/powercut/powercut.c) on each release. The harness serves the
# signed manifest and the image from memory on the in-memory transport
# (tests/support/): no server, no sockets, and the same flash operations in
# every run.
#
#   update     every cut point x {before, torn, after} of 1.0.0 -> 2.0.0
#   rollback   the same for the crashing 2.0.0, plus random cut sequences
#   random     random sequences of up to 5 cuts of 1.0.0 -> 2.0.0
#   badregion  bad flash regions in the target slot, agent state and boot
#              data, each uncut and cut at every operation in every mode
#   delta      every cut point x mode of 1.0.0 -> 2.0.0 by a patch (the
#              release offers a patch from 1.0.0; docs/delta.md), and by a
#              compressed image
#   data       every cut point x mode of 1.0.0 -> 2.0.0 with a new image
#              for the data partition "storage" (docs/data-partitions.md):
#              the application mounts the partition only when the agent
#              says it holds a whole image, and it always does then
#   all        all six
#
# Two more suites guard agent issues found and fixed (docs/powercut.md,
# "Findings" 2 and 3):
#   norange    every cut point and random sequences against a server that
#              ignores Range (answers 200): a progress record must not claim
#              bytes a restarted download has already erased
#   strict     the crashing release may boot only once: a cut between
#              selecting its slot and clearing the finished download must
#              not make the agent install it a second time
#
# --report FILE   write the harness's markdown sections to FILE
# --doc FILE      rewrite the generated part of FILE (docs/powercut.md)
#                 between its "BEGIN GENERATED" and "END GENERATED" lines
#
# Environment: FOTA_BIN and POWERCUT_BIN (ctest sets both; by default the
# ones in ./build), POWERCUT_SEED (random sequences' seed, default 20261124),
# POWERCUT_RANDOM (number of random sequences, default 1000), POWERCUT_ARGS
# (more harness options, appended to every run: "--cut 266 --mode after
# --verbose" narrows the every-cut-point runs to one cut and shows what the
# device does; "--random 1 --first 168" reruns one random sequence).
# shellcheck disable=SC2016 # backquotes in single quotes are markdown
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
: "${FOTA_BUILD:=$src/build}"
: "${FOTA_BIN:=$FOTA_BUILD/tools/fota}"
: "${POWERCUT_BIN:=$FOTA_BUILD/tests/powercut/powercut}"
export FOTA_BIN FOTA_BUILD
. "$src/tests/e2e/lib.sh"
. "$src/tests/e2e/device.sh"

seed=${POWERCUT_SEED:-20261124}
random_count=${POWERCUT_RANDOM:-1000}
suites=()
report=""
doc=""
while [ $# -gt 0 ]; do
    case $1 in
    --report) report=$2; shift 2 ;;
    --doc) doc=$2; shift 2 ;;
    all) suites+=(update rollback random badregion delta data); shift ;;
    update | rollback | random | badregion | delta | data | norange | strict) suites+=("$1"); shift ;;
    *) note "unknown argument '$1' (suites: update rollback random badregion delta data all norange strict)"; exit 2 ;;
    esac
done
[ ${#suites[@]} -gt 0 ] || { note "no suite given"; exit 2; }
[ -x "$POWERCUT_BIN" ] || { fail "POWERCUT_BIN ($POWERCUT_BIN) is not built"; finish; }

# The releases: WWW offers 2.0.0 (security counter 1) after 1.0.0; CRASH_WWW
# offers a 2.0.0 that crashes before it confirms itself.
prepare_release 262144
release "$FW2" --security-counter 1
GOOD_WWW=$WWW
CRASH_FW=$WORK/fw-2.0.0-crash.bin
"$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 2.0.0 --size 262144 \
    --marker FOTA-SIM-CRASH -o "$CRASH_FW" >/dev/null
WWW=$WORK/www-crash
release "$FW1"
release "$CRASH_FW" --security-counter 1
CRASH_WWW=$WWW

GOOD=$GOOD_WWW/$PRODUCT/manifest.txt
CRASH=$CRASH_WWW/$PRODUCT/manifest.txt

fragment=$FOTA_TEST_TMP/report.md
: >"$fragment"
common=(--key "$KEY.pub" --old "$FW1" --security 1 --persist-every 16384 --report "$fragment")
started=$(date +%s)

# run_suite TITLE ARGS...: run the harness, append its report under TITLE.
run_suite() {
    local title=$1 rc t0 t1
    shift
    printf '\n### %s\n\n' "$title" >>"$fragment"
    printf '`powercut %s`\n\n' "$*" | sed -e "s|$FOTA_TEST_TMP|\$TMP|g" >>"$fragment"
    t0=$(date +%s.%N)
    set +e
    # shellcheck disable=SC2086 # POWERCUT_ARGS is a list of options
    "$POWERCUT_BIN" "$@" "${common[@]}" ${POWERCUT_ARGS:-}
    rc=$?
    set -e
    t1=$(date +%s.%N)
    expect_eq "$rc" 0 "$title: the harness found no failure"
    note "$title took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
}

for suite in "${suites[@]}"; do
    case $suite in
    update)
        run_suite "1.0.0 -> 2.0.0: every cut point in every mode" \
            --manifest "$GOOD" --new "$FW2" --exhaustive
        # the same on a device whose journals wrap around during the update:
        # the agent state mid-download and the boot data at the switch, then
        # the agent state at the activation and the boot data in the bootloader
        run_suite "1.0.0 -> 2.0.0, journals wrapping at the download and the switch" \
            --manifest "$GOOD" --new "$FW2" --exhaustive --worn-state 10 --worn-boot 0
        run_suite "1.0.0 -> 2.0.0, journals wrapping at the activation and the first boot" \
            --manifest "$GOOD" --new "$FW2" --exhaustive --worn-state 17 --worn-boot 1
        # slot 1 still marked aborted from an earlier rolled-back release: a
        # cut before the switch must not be taken for a rollback of 2.0.0
        run_suite "1.0.0 -> 2.0.0 into a slot that holds an earlier rolled-back release" \
            --manifest "$GOOD" --new "$FW2" --exhaustive --slot1-aborted ;;
    rollback)
        run_suite "1.0.0 -> a 2.0.0 that crashes before confirming: every cut point, every mode, and random sequences" \
            --manifest "$CRASH" --new "$CRASH_FW" --crash --exhaustive \
            --random $((random_count / 4)) --seed "$seed"
        # journals wrapping at the rollback: the bootloader's and the agent's
        run_suite "1.0.0 -> a crashing 2.0.0, journals wrapping at the rollback" \
            --manifest "$CRASH" --new "$CRASH_FW" --crash --exhaustive \
            --worn-state 19 --worn-boot 2 ;;
    random)
        run_suite "1.0.0 -> 2.0.0: random sequences of cuts" \
            --manifest "$GOOD" --new "$FW2" --random "$random_count" --max-cuts 5 --seed "$seed" \
            --no-map ;;
    badregion)
        run_suite "1.0.0 -> 2.0.0 on flash with bad regions" \
            --manifest "$GOOD" --new "$FW2" --bad-cuts --no-map ;;
    delta)
        # 2.0.0 shares 1.0.0's first 128 KiB (same seed) and adds 128 KiB:
        # the device rebuilds it from its running slot and a patch
        DELTA_FW1=$WORK/fw-delta-1.0.0.bin
        DELTA_FW2=$WORK/fw-delta-2.0.0.bin
        "$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 1.0.0 --seed 7 \
            --size 131072 -o "$DELTA_FW1" >/dev/null
        "$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 2.0.0 --seed 7 \
            --size 262144 -o "$DELTA_FW2" >/dev/null
        WWW=$WORK/www-delta
        release "$DELTA_FW1"
        release "$DELTA_FW2" --security-counter 1 --delta-from "$DELTA_FW1"
        saved_common=("${common[@]}")
        common=(--key "$KEY.pub" --old "$DELTA_FW1" --security 1 --persist-every 16384
                --report "$fragment")
        run_suite "1.0.0 -> 2.0.0 by a patch: every cut point in every mode" \
            --manifest "$WWW/$PRODUCT/manifest.txt" --new "$DELTA_FW2" --exhaustive
        # a compressible 2.0.0 (a long text marker) and no patch from 1.0.0:
        # the compressed image
        PACKED_FW2=$WORK/fw-packed-2.0.0.bin
        "$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 2.0.0 --seed 11 \
            --size 131072 --marker "$(printf 'fota compressible firmware text %04d; ' $(seq 2000))" \
            -o "$PACKED_FW2" >/dev/null
        WWW=$WORK/www-packed
        release "$DELTA_FW1"
        release "$PACKED_FW2" --security-counter 1 --compress
        run_suite "1.0.0 -> 2.0.0 by a compressed image: every cut point in every mode" \
            --manifest "$WWW/$PRODUCT/manifest.txt" --new "$PACKED_FW2" --exhaustive
        common=("${saved_common[@]}") ;;
    data)
        # 64 KiB application images and 64 KiB file-system images (text, then
        # erased space, as mklittlefs pads them): the data image is staged in
        # the inactive slot, copied into the partition under the busy mark,
        # then the application is downloaded over the staged image
        DATA_FW1=$WORK/fw-data-1.0.0.bin
        DATA_FW2=$WORK/fw-data-2.0.0.bin
        "$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 1.0.0 --seed 3 \
            --size 65536 -o "$DATA_FW1" >/dev/null
        "$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 2.0.0 --seed 4 \
            --size 65536 -o "$DATA_FW2" >/dev/null
        for v in old new; do
            printf "file system $v %05d\n" $(seq 3000) >"$WORK/storage-$v.bin"
            truncate -s 40000 "$WORK/storage-$v.bin"
            head -c 25536 /dev/zero | tr '\0' '\377' >>"$WORK/storage-$v.bin"
        done
        WWW=$WORK/www-data
        release "$DATA_FW1"
        release "$DATA_FW2" --security-counter 1 --data storage="$WORK/storage-new.bin"
        saved_common=("${common[@]}")
        common=(--key "$KEY.pub" --old "$DATA_FW1" --security 1 --persist-every 16384
                --slot-size 131072 --report "$fragment")
        run_suite "1.0.0 -> 2.0.0 with a data-partition image: every cut point in every mode" \
            --manifest "$WWW/$PRODUCT/manifest.txt" --new "$DATA_FW2" --exhaustive \
            --data "storage=$WORK/storage-old.bin,$WORK/storage-new.bin"
        common=("${saved_common[@]}") ;;
    norange)
        run_suite "1.0.0 -> 2.0.0 from a server without Range" \
            --manifest "$GOOD" --no-range --new "$FW2" --exhaustive \
            --random $((random_count / 4)) --seed "$seed" ;;
    strict)
        run_suite "1.0.0 -> a crashing 2.0.0 that may boot only once" \
            --manifest "$CRASH" --new "$CRASH_FW" --crash --exhaustive --strict-rollback ;;
    esac
done
elapsed=$(($(date +%s) - started))
note "all suites took $elapsed s"

if [ -n "$report" ]; then
    cp "$fragment" "$report"
fi
if [ -n "$doc" ]; then
    if ! grep -q '^<!-- BEGIN GENERATED' "$doc" || ! grep -q '^<!-- END GENERATED' "$doc"; then
        fail "$doc has no BEGIN GENERATED / END GENERATED lines"
    else
        {
            printf '\nGenerated by `tests/powercut/run.sh %s --doc docs/powercut.md` on %s\n' \
                "${suites[*]}" "$(date -u +%Y-%m-%d)"
            printf '(%s, %s CPU cores): the suites took **%s s** in all, one after the other\n(`ctest -j2 -L powercut` runs the four tests two at a time).\n' \
                "$(uname -sm)" "$(nproc)" "$elapsed"
            printf 'Random seed %s (POWERCUT_SEED); rerun random sequence S with\n`POWERCUT_ARGS="--random 1 --first S" tests/powercut/run.sh random`.\n' \
                "$seed"
            cat "$fragment"
        } >"$FOTA_TEST_TMP/generated.md"
        awk -v gen="$FOTA_TEST_TMP/generated.md" '
            /^<!-- BEGIN GENERATED/ { print; while ((getline line < gen) > 0) print line; skip = 1; next }
            /^<!-- END GENERATED/ { skip = 0 }
            !skip { print }' "$doc" >"$FOTA_TEST_TMP/doc.md"
        cp "$FOTA_TEST_TMP/doc.md" "$doc"
        pass "rewrote the generated part of $doc"
    fi
fi
finish

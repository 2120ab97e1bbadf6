#!/usr/bin/env bash
# A delta update over the simulated SIM800 at GPRS speed (sim800sim --rate,
# 10,700 bytes/s: GPRS class 12 at best), against the full image over the same
# link: both devices end on 2.0.0; the patch device moves a fraction of the
# bytes. The times are printed for the record (speed is a benchmark matter:
# nothing here asserts a time).
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/device.sh"
require_tools curl
[ -x "${SIM800SIM:-}" ] || { fail "SIM800SIM (the sim800sim simulator) is not set"; finish; }
rate=10700

SIM_N=0
start_modem() {
    SIM_N=$((SIM_N + 1))
    TTY=$FOTA_TEST_TMP/modem$SIM_N.tty
    start_bg "sim800sim.$SIM_N" "$SIM800SIM" --link "$TTY" --rate $rate "$@"
    wait_line "$FOTA_TEST_TMP/sim800sim.$SIM_N.out" '^pty ' "$BG_PID" >/dev/null ||
        fail "sim800sim did not start"
}

# 2.0.0 keeps 1.0.0's 256 KiB of code (same seed) and adds 16 KiB
prepare_release 262144
"$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 1.0.0 --seed 7 --size 262144 -o "$FW1" >/dev/null
"$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 2.0.0 --seed 7 --size 278528 -o "$FW2" >/dev/null
rm -rf "$WWW"
release "$FW1"
start_fota_serve "$WWW"
url=$SERVE_URL/$PRODUCT/manifest.txt
release "$FW2" --delta-from "$FW1"
patch=$(ls "$WWW/$PRODUCT/firmware/" | grep '\.patch$')
patch_size=$(stat -c %s "$WWW/$PRODUCT/firmware/$patch")
full_size=$(stat -c %s "$FW2")

declare -A took
for how in full patch; do
    rm -rf "$WORK/dev"
    start_modem
    args=(--modem "$TTY" --no-wifi --timeout 60000)
    [ $how = full ] && args+=(--no-delta)
    t0=$(date +%s.%N)
    sim_device "$url" "${args[@]}" >/dev/null
    t1=$(date +%s.%N)
    took[$how]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed (via gsm)" "gsm, $how: updated"
done
expect_contains "$(grep "$patch" "$SERVE_LOG")" " 200 $patch_size" "the patch went through the modem"
[ "$patch_size" -lt $((full_size / 4)) ] && pass "the patch is under a quarter of the image" ||
    fail "patch $patch_size of $full_size bytes"
printf 'GPRS at %s bytes/s: full image %s bytes in %s s; patch %s bytes in %s s (both with boot, check, verify, reboot and confirm)\n' \
    "$rate" "$full_size" "${took[full]}" "$patch_size" "${took[patch]}"
finish

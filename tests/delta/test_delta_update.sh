#!/usr/bin/env bash
# A simulated device updates itself with a patch through fota serve and
# nginx: it picks the patch for its running image; a device with another
# image (whose patch is no smaller) and a device without decoder memory take
# the full image; a damaged patch falls back to the next artifact; a connection reset
# mid-patch continues with Range in the same run; a power cut mid-patch
# resumes after reboot from the last block the decoder finished; a device
# without a patch for its image takes the compressed image.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/device.sh"
require_tools curl

# 1.0.0 and 2.0.0 share their first 160 KiB (same seed); 2.0.0 has 160 KiB
# more of new, incompressible code: the patch is about that, the full image 320 KiB.
prepare_release 163840
"$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 1.0.0 --seed 7 --size 163840 -o "$FW1" >/dev/null
"$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 2.0.0 --seed 7 --size 327680 -o "$FW2" >/dev/null
FW0=$WORK/fw-0.9.0.bin
"$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 0.9.0 --seed 9 --size 163840 -o "$FW0" >/dev/null
rm -rf "$WWW"
release "$FW1"
start_fota_serve "$WWW"
origin=$SERVE_URL
sim_device "$origin/$PRODUCT/manifest.txt" --max-boots 1 --check-only >/dev/null
release "$FW2" --delta-from "$FW1" --delta-from "$FW0"
patch=$(ls "$WWW/$PRODUCT/firmware/" | grep "from-$(sha256sum "$FW1" | cut -c1-16)")
patch_size=$(stat -c %s "$WWW/$PRODUCT/firmware/$patch")
[ "$patch_size" -lt 250000 ] && pass "the patch ($patch_size bytes) is smaller than the image" ||
    fail "patch of $patch_size bytes"

# 1. The patch for the running image, through fota serve
sim_device "$origin/$PRODUCT/manifest.txt" --verbose
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed" "updated with the patch"
expect_contains "$(cat "$SIM_OUT")" "fetching the patch from the running image" "it chose the patch"
expect_contains "$(cat "$SERVE_LOG")" "$patch 200 $patch_size" "fota serve sent the patch"
expect_eq "$(grep -c 'demo-2.0.0.bin ' "$SERVE_LOG")" 0 "the full image was never fetched"

# 2. Another running image, whose patch is no smaller than the image (the
# images are random bytes, so the compressed image is not either): the full
# image; no decoder memory: the full image
for case in other nodelta; do
    rm -rf "$WORK/dev"
    if [ $case = other ]; then
        FW1_SAVED=$FW1; FW1=$FW0
        sim_device "$origin/$PRODUCT/manifest.txt" --verbose
        FW1=$FW1_SAVED
        expect_sim 0 "result: updated 0.9.0 -> 2.0.0 and confirmed" "another base: updated"
        expect_eq "$(grep -c 'fetching the' "$SIM_OUT")" 0 "another base: no artifact is smaller"
        expect_contains "$(tail -3 "$SERVE_LOG")" "demo-2.0.0.bin 200" "another base: the full image"
    else
        sim_device "$origin/$PRODUCT/manifest.txt" --verbose --no-delta
        expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed" "no decoder memory: updated"
        expect_contains "$(tail -3 "$SERVE_LOG")" "demo-2.0.0.bin 200" "no decoder memory: the full image"
    fi
done

# 3. Through nginx, a damaged patch: the device falls back and still updates
start_nginx "$WWW"
cp "$WWW/$PRODUCT/firmware/$patch" "$WORK/patch.good"
printf '\x55\x55\x55\x55' | dd of="$WWW/$PRODUCT/firmware/$patch" bs=1 seek=20000 conv=notrunc 2>/dev/null
rm -rf "$WORK/dev"
sim_device "$NGINX_URL/$PRODUCT/manifest.txt" --verbose
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed" "nginx, damaged patch: updated anyway"
expect_contains "$(cat "$SIM_OUT")" "falling back from the patch" "the damaged patch was refused"
expect_contains "$(cat "$SIM_OUT")" "FOTA_ERR_DELTA_CORRUPT" "named as corrupt"
cp "$WORK/patch.good" "$WWW/$PRODUCT/firmware/$patch"

# 4. A connection reset mid-patch: Range continues the patch in the same run
rm -rf "$WORK/dev"
start_faultproxy "$NGINX_PORT" reset --arg 120000 --times 1
sim_device "$PROXY_URL/$PRODUCT/manifest.txt" --verbose
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed" "reset mid-patch: updated"
expect_contains "$(cat "$SIM_OUT")" "server continues at offset" "the patch continued with Range"
expect_eq "$(grep -c 'falling back' "$SIM_OUT")" 0 "no fallback after a dropped link"

# 5. Power lost mid-patch: resume from the last finished block after reboot
rm -rf "$WORK/dev"
sim_device "$origin/$PRODUCT/manifest.txt" --max-boots 1 --check-only >/dev/null
start_faultproxy "$SERVE_PORT" trickle --arg 40000
"$FOTA_BIN" sim --dir "$WORK/dev" --url "$PROXY_URL/$PRODUCT/manifest.txt" --key "$KEY.pub" \
    --product $PRODUCT --chip esp32 >"$WORK/killed.out" 2>&1 &
victim=$!
for _ in $(seq 400); do
    grep -qE "\((7[0-9]|8[0-9])%\)" "$WORK/killed.out" && break
    sleep 0.05
done
kill -9 $victim 2>/dev/null || true
wait $victim 2>/dev/null || true
expect_contains "$(cat "$WORK/killed.out")" "fetching the patch" "the first run was fetching the patch when power went"
sim_device "$origin/$PRODUCT/manifest.txt" --verbose
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed" "power cut mid-patch: updated after reboot"
resumed=$(sed -n 's/.*resuming 2.0.0 at offset \([0-9]*\) of.*/\1/p' "$SIM_OUT")
[ -n "$resumed" ] && [ "$resumed" -ge 65536 ] &&
    pass "resumed at image offset $resumed (a block boundary)" || fail "no resume ('$resumed')"
range=$(grep "$patch 206 " "$SERVE_LOG" | tail -1)
expect_ne "$range" "" "the rest of the patch came with Range (206)"

# 6. A compressible 2.0.0 (a long text marker) and no patch for the running
# image: the compressed image
text=$(printf 'fota compressible firmware text %04d; ' $(seq 2000))
"$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 2.0.0 --seed 11 --size 131072 \
    --marker "$text" -o "$WORK/fw-text-2.0.0.bin" >/dev/null
rm -rf "$WORK/dev"
WWW=$WORK/www-text
release "$FW1"
start_fota_serve "$WWW"
sim_device "$SERVE_URL/$PRODUCT/manifest.txt" --max-boots 1 --check-only >/dev/null
release "$WORK/fw-text-2.0.0.bin" --delta-from "$FW0"
packed=$(ls "$WWW/$PRODUCT/firmware/" | grep '\.compressed$')
sim_device "$SERVE_URL/$PRODUCT/manifest.txt" --verbose
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed" "compressed image: updated"
expect_contains "$(cat "$SIM_OUT")" "fetching the compressed image" "it chose the compressed image"
expect_contains "$(cat "$SERVE_LOG")" "$packed 200 $(stat -c %s "$WWW/$PRODUCT/firmware/$packed")" \
    "fota serve sent the compressed image"
finish

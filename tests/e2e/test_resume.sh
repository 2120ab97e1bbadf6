#!/usr/bin/env bash
# Resume: a connection cut in the middle of the image continues with Range
# in the same run; a device that loses power mid-download continues after
# reboot from the progress it saved, without fetching the first part again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/device.sh"
require_tools curl

size=262144
prepare_release $size
start_fota_serve "$WWW"
origin=$SERVE_URL
release "$FW2"
sim_device "$origin/$PRODUCT/manifest.txt" --max-boots 1 --check-only >/dev/null

# 1. The connection is reset after 100000 bytes (the first connection only).
start_faultproxy "$SERVE_PORT" reset --arg 100000 --times 1
sim_device "$PROXY_URL/$PRODUCT/manifest.txt" --verbose
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed" "the update completes after a reset mid-image"
expect_contains "$(cat "$SIM_OUT")" "failed at offset" "the cut is reported with its offset"
expect_contains "$(cat "$SIM_OUT")" "server continues at offset" "the retry resumes with Range"
range_line=$(grep 'demo-2.0.0.bin 206 ' "$SERVE_LOG" | tail -1)
expect_ne "$range_line" "" "the server answered 206 Partial Content"
sent=$(sed -E 's/.* 206 ([0-9]+) .*/\1/' <<<"$range_line")
[ -n "$sent" ] && [ "$sent" -lt "$size" ] && [ "$sent" -gt 0 ] &&
    pass "only the rest was sent again ($sent of $size bytes)" || fail "206 sent '$sent' bytes"

# 2. Power lost mid-download: a trickling link, the device killed half-way.
prepare_release $size
start_fota_serve "$WWW"
origin=$SERVE_URL
sim_device "$origin/$PRODUCT/manifest.txt" --max-boots 1 >/dev/null
release "$FW2"
start_faultproxy "$SERVE_PORT" trickle --arg 40000
"$FOTA_BIN" sim --dir "$WORK/dev" --url "$PROXY_URL/$PRODUCT/manifest.txt" --key "$KEY.pub" \
    --product $PRODUCT --chip esp32 >"$WORK/killed.out" 2>&1 &
victim=$!
for _ in $(seq 300); do
    grep -q "(50%)" "$WORK/killed.out" && break
    sleep 0.05
done
kill -9 $victim 2>/dev/null
wait $victim 2>/dev/null || true
expect_contains "$(cat "$WORK/killed.out")" "(50%)" "the first run got half-way before the power cut"
sim_device "$origin/$PRODUCT/manifest.txt"
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed" "after the power cut the update completes"
resumed=$(sed -n 's/.*resuming 2.0.0 at offset \([0-9]*\) of.*/\1/p' "$SIM_OUT")
[ -n "$resumed" ] && [ "$resumed" -ge 65536 ] &&
    pass "it resumed from saved progress at offset $resumed" || fail "no resume from saved progress ('$resumed')"
range_line=$(grep 'demo-2.0.0.bin 206 ' "$SERVE_LOG" | tail -1)
sent=$(sed -E 's/.* 206 ([0-9]+) .*/\1/' <<<"$range_line")
[ -n "$sent" ] && [ "$sent" = $((size - resumed)) ] &&
    pass "the server sent only the missing $sent bytes" || fail "206 sent '$sent' bytes, expected $((size - ${resumed:-0}))"
finish

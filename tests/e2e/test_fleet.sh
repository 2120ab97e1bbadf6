#!/usr/bin/env bash
# A fleet: 16 simulated devices, each with its own flash, update at the same
# time from one fota serve; a quarter of them through a link that resets
# every connection after 60000 bytes. Every device ends on 2.0.0, confirmed,
# and the server sent the image once per device plus only the missing ranges
# to the ones cut off.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/device.sh"
require_tools curl

devices=16
prepare_release 131072
release "$FW2"
start_fota_serve "$WWW"
direct=$SERVE_URL/$PRODUCT/manifest.txt
start_faultproxy "$SERVE_PORT" reset --arg 60000
flaky=$PROXY_URL/$PRODUCT/manifest.txt

pids=()
for i in $(seq 1 $devices); do
    url=$direct
    [ $((i % 4)) = 0 ] && url=$flaky
    "$FOTA_BIN" sim --dir "$WORK/dev$i" --factory "$FW1" --url "$url" --key "$KEY.pub" \
        --product $PRODUCT --chip esp32 --backoff 200 --timeout 5000 --attempts 8 \
        >"$WORK/dev$i.out" 2>&1 &
    pids+=($!)
done
failed=0
for i in $(seq 1 $devices); do
    wait "${pids[$((i - 1))]}" || failed=$((failed + 1))
done
expect_eq "$failed" 0 "all $devices devices exit 0"
updated=$(grep -l "result: updated 1.0.0 -> 2.0.0 and confirmed" "$WORK"/dev*.out | wc -l)
expect_eq "$updated" "$devices" "all $devices devices updated to 2.0.0 and confirmed"
resumed=$(grep -l "server continues at offset" "$WORK"/dev*.out | wc -l)
expect_eq "$resumed" $((devices / 4)) "the $((devices / 4)) devices behind the flaky link resumed with Range"
full=$(grep -c "demo-2.0.0.bin 200 131072 " "$SERVE_LOG" || true)
expect_eq "$full" "$devices" "the server sent the whole image once per device"
# the flaky link resets every connection after 60000 bytes, so a device
# behind it needs two Range requests (at ~60000, then ~120000)
partial=$(grep -c "demo-2.0.0.bin 206 " "$SERVE_LOG" || true)
expect_eq "$partial" $((devices / 4 * 2)) "and two range requests per device behind the flaky link"
big=$(grep "demo-2.0.0.bin 206 " "$SERVE_LOG" | awk '{for (i = 1; i < NF; i++) if ($i == "206") print $(i + 1)}' |
    awk '$1 >= 131072' | wc -l)
expect_eq "$big" 0 "no range request fetched the whole image again"
for i in $(seq 1 $devices); do
    grep -q "result: updated" "$WORK/dev$i.out" || sed 's/^/    | /' "$WORK/dev$i.out"
done
finish

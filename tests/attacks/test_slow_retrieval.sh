#!/usr/bin/env bash
# Slow retrieval: a server (or a man in the middle) that sends a few bytes
# per second, just often enough that no single read times out. The device's
# minimum rate (--min-rate, measured over 10 s windows) and its deadline per
# attempt (--deadline) end the check with their own errors instead of letting
# it hang; the image in use is untouched.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/device.sh"
. "$(dirname "$0")/lib.sh"
require_tools curl
attacks_setup 5-slow-retrieval

fresh_release
ORIGIN_URL=$SERVE_URL
release "$FW2"
# 10 bytes/s: the manifest alone would take a minute, and a read never waits
# longer than 0.1 s, so the read timeout (5 s here) never fires.
start_faultproxy "$SERVE_PORT" trickle --arg 10

attack "slow retrieval" "10 bytes/s, device minimum 100 bytes/s"
sim_device "$PROXY_URL/$PRODUCT/manifest.txt" --timeout 5000 --min-rate 100 --attempts 1
expect_refused FOTA_ERR_TOO_SLOW "manifest download from 127.0.0.1:PORT too slow" "minimum 100"
expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running, no slot was selected"
slot_blank 1 0 262144 && pass "$CASE: the update slot was never written" || fail "$CASE: slot 1 was written"
attack_row "sends a few bytes per second, each read just inside the read timeout, to hold the device (and its radio) for hours" \
    "the minimum rate: below it over a 10 s window the device drops the connection"

attack "slow retrieval" "10 bytes/s, device deadline 2 s per attempt"
rm -rf "${WORK:?}/dev"
sim_device "$PROXY_URL/$PRODUCT/manifest.txt" --timeout 5000 --deadline 2000 --attempts 2
expect_refused FOTA_ERR_DEADLINE "manifest download from 127.0.0.1:PORT passed its 2000 ms deadline"
expect_backoff
expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running, no slot was selected"
attack_row "as above" \
    "the deadline per attempt; attempts are bounded (--attempts), so the whole check is bounded"

# Control: the guard must not cut a link that is slow but above the minimum.
# A manifest at 50 bytes/s (12 s for its ~600 bytes) with a minimum of
# 10 bytes/s must arrive; the image comes straight from the origin.
# Before 6d0464f this failed: only image body bytes were
# counted into the rate window (on_image_body), so any manifest that took
# 10 s or more was "too slow: 0 bytes/s" whatever its rate.
attack "slow retrieval" "control: a manifest at 50 bytes/s, device minimum 10 bytes/s"
rm -rf "${WORK:?}/dev"
start_faultproxy "$SERVE_PORT" trickle --arg 50
route image "$SERVE_URL"   # the image straight from the origin
sim_device "$PROXY_URL/$PRODUCT/manifest.txt" --timeout 5000 --min-rate 10 --attempts 1 --max-boots 1
expect_eq "$(failure_code)" "" "$CASE: a manifest arriving above the minimum rate is not refused as too slow"
expect_contains "$(cat "$SIM_OUT")" "update: 2.0.0 verified and activated" "$CASE: the update goes ahead"

attack "slow retrieval" "the image at 20 KiB/s, device deadline 3 s"
rm -rf "${WORK:?}/dev"
start_faultproxy "$SERVE_PORT" trickle --arg 20480
route image "$PROXY_URL"
sim_device "$DEVICE_URL" --timeout 5000 --deadline 3000 --attempts 1
expect_refused FOTA_ERR_DEADLINE "image download from 127.0.0.1:PORT passed its 3000 ms deadline"
expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running, no slot was selected"
attack_row "lets the manifest through and slows the image" \
    "the same deadline covers the image download; what was written stays unselected (and resumes with Range next time)"
attacks_finish

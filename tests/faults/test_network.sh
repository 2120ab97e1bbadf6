#!/usr/bin/env bash
# Network faults between the device and a correct server (fota serve), made by
# faultproxy: nothing listening, a reset at accept, resets and closes in the
# middle of a response, a stall, a trickle, a flipped byte; and a server that
# cannot resume (python's http.server). For each: the specific error, the
# backoff, and the update completing once the fault clears (faultproxy
# --times 1), resuming with Range without fetching verified bytes again.
# Writes its rows of the fault table (tests/faults/lib.sh, docs/faults.md).
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/device.sh"
. "$(dirname "$0")/lib.sh"
require_tools curl

faults_setup 1-network
# status line and headers of an image response (both images have one size)
image_head=$(header_bytes "$ORIGIN_URL/$PRODUCT/firmware/$PRODUCT-1.0.0.bin")

# ---- Nothing listens, then the server comes up ---------------------------------
fault_case "server down: nothing listens on the port"
port=$(free_port)
route manifest "http://127.0.0.1:$port"
start_bg sim-down "$FOTA_BIN" sim --dir "$WORK/dev" --factory "$FW1" --url "$DEVICE_URL" \
    --key "$KEY.pub" --product $PRODUCT --chip esp32 --timeout 1000 --backoff 300 --attempts 8
sim_pid=$BG_PID
SIM_OUT=$FOTA_TEST_TMP/sim-down.out
wait_line "$SIM_OUT" 'retry 1 of' "$sim_pid" >/dev/null || true
start_bg late-serve "$FOTA_BIN" serve --port "$port" "$WWW"
SIM_RC=0
wait "$sim_pid" || SIM_RC=$?
sed 's/^/    | /' "$SIM_OUT"
expect_failure FOTA_ERR_CONNECT_REFUSED "TCP connect to 127.0.0.1:PORT refused"
expect_backoff
expect_updated
row "TCP connect refused: nothing listened yet" \
    "yes: the first attempt after the server came up"

# ---- faultproxy faults on the whole check (manifest and image) -------------------
fault_case "connection reset at accept (RST before any byte)"
start_faultproxy "$ORIGIN_PORT" refuse --times 1
route manifest "$PROXY_URL"
sim_device "$DEVICE_URL" --timeout 1000 --attempts 4
# the RST may arrive before or after connect() completes
expect_failure 'FOTA_ERR_CONNECT|FOTA_ERR_RECV|FOTA_ERR_SEND' "Connection reset by peer"
expect_backoff
expect_updated
row "the connect (or the first read) failed with the reset" "yes: on the next attempt"

fault_case "connection reset inside the manifest"
start_faultproxy "$ORIGIN_PORT" reset --arg 300 --times 1
route manifest "$PROXY_URL"
sim_device "$DEVICE_URL" --timeout 1000 --attempts 4
expect_failure FOTA_ERR_RECV "receiving the manifest" "Connection reset by peer"
expect_backoff
expect_updated
row "dropped the partial manifest (nothing is used before the signature verifies)" \
    "yes: the manifest fetched again"

fault_case "connection reset in the middle of the image"
start_faultproxy "$ORIGIN_PORT" reset --arg 100000 --times 1
route manifest "$PROXY_URL"
sim_device "$DEVICE_URL" --timeout 1000 --attempts 4
expect_failure FOTA_ERR_RECV "receiving the image" "failed at offset" "Connection reset by peer"
expect_backoff
expect_resumed
expect_updated
row "kept the bytes already hashed and written" \
    "yes: 206 for the missing $((FAULT_SIZE - $(resumed_at))) bytes only"

fault_case "connection reset twice in the image (two connections in a row)"
start_faultproxy "$ORIGIN_PORT" reset --arg 100000 --times 2
route manifest "$PROXY_URL"
sim_device "$DEVICE_URL" --timeout 1000 --attempts 4
expect_failure FOTA_ERR_RECV "receiving the image" "failed at offset"
expect_eq "$(retries | wc -l)" 2 "$CASE: two retries, one per reset"
ranges=""
for at in $(sed -n 's/.*server continues at offset \([0-9]*\)$/\1/p' "$SIM_OUT"); do
    wait_line "$ORIGIN_LOG" "demo-2.0.0.bin 206 $((FAULT_SIZE - at)) range=\"bytes=$at-\"" "$ORIGIN_PID" >/dev/null &&
        pass "$CASE: a 206 from byte $at" || fail "$CASE: no 206 from byte $at"
    ranges="$ranges${ranges:+, }$at-"
done
expect_updated
row "continued each time from the last byte it had" "yes: 206 twice (bytes $ranges)"

fault_case "connection closed (FIN) in the middle of the image"
start_faultproxy "$ORIGIN_PORT" truncate --arg 150000 --times 1
route manifest "$PROXY_URL"
sim_device "$DEVICE_URL" --timeout 1000 --attempts 4
expect_failure FOTA_ERR_CLOSED "closed the connection during the image (at offset"
expect_backoff
expect_resumed
expect_updated
row "saw the body end short of its Content-Length" \
    "yes: 206 for the missing $((FAULT_SIZE - $(resumed_at))) bytes only"

fault_case "server stalls after the image's headers (3 s, read timeout 1 s)"
start_faultproxy "$ORIGIN_PORT" stall --arg 3 --times 1
route image "$PROXY_URL"
sim_device "$DEVICE_URL" --timeout 1000 --attempts 4
expect_failure FOTA_ERR_TIMEOUT "no data from 127.0.0.1:PORT for 1000 ms during the image"
expect_backoff
expect_updated
row "gave up on the silent connection after the read timeout" "yes: on a new connection"

fault_case "trickle of 4000 bytes/s on the image, device minimum 8000 bytes/s"
start_faultproxy "$ORIGIN_PORT" trickle --arg 4000 --times 1
route image "$PROXY_URL"
sim_device "$DEVICE_URL" --timeout 2000 --min-rate 8000 --attempts 4
expect_failure FOTA_ERR_TOO_SLOW "image download from 127.0.0.1:PORT too slow" "minimum 8000"
expect_backoff
expect_resumed
expect_updated
row "measured the rate over a 10 s window and dropped the connection" \
    "yes: 206 for the missing $((FAULT_SIZE - $(resumed_at))) bytes only"

fault_case "slow link: trickle of 128 KiB/s, no minimum rate"
start_faultproxy "$ORIGIN_PORT" trickle --arg 131072
route image "$PROXY_URL"
sim_device "$DEVICE_URL" --timeout 2000 --attempts 1
expect_eq "$(failure_code)" "" "$CASE: a slow but steady link is no error"
expect_updated
row "downloaded at the link's pace (every read within the timeout)" "yes, no fault to clear"

fault_case "one byte flipped in the image body"
start_faultproxy "$ORIGIN_PORT" flip --arg 100000 --times 1
route manifest "$PROXY_URL"
sim_device "$DEVICE_URL" --timeout 1000 --attempts 4
expect_failure FOTA_ERR_IMAGE_HASH "SHA-256 mismatch after $FAULT_SIZE bytes"
expect_backoff
expect_updated
fulls=$(origin_log | grep -c "demo-2.0.0.bin 200 $FAULT_SIZE " || true)
expect_eq "$fulls" 2 "$CASE: the retry started over from the manifest (whole image fetched twice)"
row "verified the whole image before activating it: mismatch, the slot was not selected; the retry discarded the image and started over from the manifest" \
    "yes: the whole image fetched again and verified"

fault_case "one byte flipped in the image header (the 0xE9 magic)"
start_faultproxy "$ORIGIN_PORT" flip --arg "$image_head" --times 1
route image "$PROXY_URL"
sim_device "$DEVICE_URL" --timeout 1000 --attempts 4
expect_failure FOTA_ERR_IMAGE_HEADER "is not a valid ESP image (magic 0x16"
expect_final
slot_blank 1 0 $FAULT_SIZE && pass "$CASE: refused before anything was erased" ||
    fail "$CASE: slot 1 was written"
next_check --timeout 1000 --attempts 4
expect_updated
row "checked the header on the first 24 bytes and refused before erasing anything; final for this check (IMAGE_HEADER is not transient: a bad header is also what a wrong build looks like)" \
    "**final** for this check; yes at the next check"

fault_case "one byte flipped in the manifest"
start_faultproxy "$ORIGIN_PORT" flip --arg 300 --times 1
route manifest "$PROXY_URL"
sim_device "$DEVICE_URL" --timeout 1000 --attempts 4
expect_failure 'FOTA_ERR_MANIFEST_PARSE|FOTA_ERR_SIGNATURE' "manifest"
expect_final
slot_blank 1 0 $FAULT_SIZE && pass "$CASE: nothing was written" || fail "$CASE: slot 1 was written"
next_check --timeout 1000 --attempts 4
expect_updated
row "refused the manifest (a byte >= 0x80 is not manifest syntax; a changed ASCII byte fails the signature); final for this check: damage and forgery look the same" \
    "**final** for this check; yes at the next check"

fault_case "connection closed right after the image's headers"
start_faultproxy "$ORIGIN_PORT" close-after-headers --times 1
route image "$PROXY_URL"
sim_device "$DEVICE_URL" --timeout 1000 --attempts 4
expect_failure FOTA_ERR_CLOSED "closed the connection during the image (at offset 0)"
expect_backoff
expect_updated
row "saw the connection end before the first body byte" "yes: on a new connection"

# ---- A server that cannot resume ---------------------------------------------------
if command -v python3 >/dev/null 2>&1; then
    fault_case "connection reset mid-image, server without Range (python http.server)"
    start_python_http "$WWW"
    start_faultproxy "$PY_PORT" reset --arg 100000 --times 1
    route image "$PROXY_URL"
    sim_device "$DEVICE_URL" --timeout 1000 --attempts 4
    expect_failure FOTA_ERR_RECV "receiving the image" "failed at offset"
    expect_backoff
    expect_contains "$(cat "$SIM_OUT")" "server answered 200 to a Range request: starting over" \
        "$CASE: the 200 answer to Range is noticed and the download starts over"
    expect_updated
    row "asked for the rest with Range" "yes: the whole image again (the server answered 200)"
else
    note "python3 missing: the no-Range case is not run"
fi

faults_finish

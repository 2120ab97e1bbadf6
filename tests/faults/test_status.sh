#!/usr/bin/env bash
# Statuses badserver does not make, from nginx with a switch: while a flag
# file exists nginx answers 403, 410 or 429 (with Retry-After), afterwards it
# serves the files. docs/agent.md says 4xx answers are final; a server that
# rate-limits with 429 says when to come back, and the device must wait at
# least that long (RFC 9110 10.2.3, as it does for 503).
# Writes its rows of the fault table.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/device.sh"
. "$(dirname "$0")/lib.sh"
require_tools curl
[ -x "${NGINX_BIN:-/usr/sbin/nginx}" ] || skip "nginx not found"

faults_setup 3-status
FLAGS=$WORK/flags
mkdir -p "$FLAGS"
start_nginx "$WWW" 127.0.0.1 "
    location = /$PRODUCT/manifest.txt {
        if (-f $FLAGS/403) { return 403; }
        if (-f $FLAGS/410) { return 410; }
    }
    location /$PRODUCT/firmware/ {
        if (-f $FLAGS/429) { add_header Retry-After 2 always; return 429; }
    }"

# clear_when_retried FLAG: remove FLAG once the device running in the
# background has logged its first retry, then wait for it.
run_and_clear_on_retry() {
    local flag=$1
    shift
    start_bg "sim-$flag" "$FOTA_BIN" sim --dir "$WORK/dev" --factory "$FW1" --url "$DEVICE_URL" \
        --key "$KEY.pub" --product $PRODUCT --chip esp32 --timeout 1000 --backoff 100 "$@"
    local pid=$BG_PID
    SIM_OUT=$FOTA_TEST_TMP/sim-$flag.out
    wait_line "$SIM_OUT" 'retry 1 of' "$pid" >/dev/null || true
    rm -f "$FLAGS/$flag"
    SIM_RC=0
    wait "$pid" || SIM_RC=$?
    sed 's/^/    | /' "$SIM_OUT"
}

fault_case "403 Forbidden on the manifest"
touch "$FLAGS/403"
route manifest "$NGINX_URL"
sim_device "$DEVICE_URL" --timeout 1000 --attempts 4
expect_failure FOTA_ERR_HTTP_FORBIDDEN "server answered 403 (access denied) for http://127.0.0.1:PORT/demo/manifest.txt"
expect_final
rm -f "$FLAGS/403"
next_check --timeout 1000 --attempts 4
expect_updated
row "access denied is final: credentials do not fix themselves" \
    "**final** for this check; yes at the next check"

# docs/agent.md: "4xx answers ... are final". 410 Gone says the file is gone
# for good: FOTA_ERR_HTTP_CLIENT, not retried.
fault_case "410 Gone on the manifest"
touch "$FLAGS/410"
route manifest "$NGINX_URL"
sim_device "$DEVICE_URL" --timeout 1000 --attempts 4
expect_failure FOTA_ERR_HTTP_CLIENT "server answered 410"
expect_final
rm -f "$FLAGS/410"
next_check --timeout 1000 --attempts 4
expect_updated
if [ "$(retries | wc -l)" -eq 0 ]; then
    row "final, as docs/agent.md says of every 4xx" "**final** for this check; yes at the next check"
else
    row "**deviation**: retried as transient although docs/agent.md calls every 4xx final" \
        "ends with the error after its attempts; yes at the next check"
fi

# 429 Too Many Requests with Retry-After: 2 on the image. The device must not
# come back before 2 s: FOTA_ERR_HTTP_BUSY is transient and honours Retry-After.
fault_case "429 Too Many Requests with Retry-After: 2 on the image"
touch "$FLAGS/429"
route image "$NGINX_URL"
rm -rf "${WORK:?}/dev"
run_and_clear_on_retry 429 --attempts 6
expect_failure FOTA_ERR_HTTP_BUSY "server answered 429 (busy"
expect_backoff
delay=$(retries | head -1 | sed -E 's/.* in ([0-9]+) ms/\1/')
[ -n "$delay" ] && [ "$delay" -ge 2000 ] &&
    pass "$CASE: the device waited as long as the server asked ($delay ms >= 2000 ms)" ||
    fail "$CASE: first retry in '$delay' ms, the server asked for 2000 ms (Retry-After ignored for 429)"
expect_updated
if [ -n "$delay" ] && [ "$delay" -ge 2000 ]; then
    row "waited as long as the server asked" "yes, once the limit was lifted"
else
    row "**deviation**: ignored Retry-After and came back before the server allowed" \
        "yes, once the limit was lifted"
fi

faults_finish

#!/usr/bin/env bash
# Server faults a proxy cannot make, from badserver: 5xx with and without
# Retry-After, 404, lengths that disagree with the body, a body that does not
# end, redirect loops, 3xx without Location, garbage, 1xx interim responses,
# oversized headers, a server that never answers, HTTP/1.0 close-delimited and
# chunked bodies. badserver misbehaves for its first --times N requests and
# then serves $WWW correctly (with Range), so each case also shows the update
# completing once the fault clears. Writes its rows of the fault table.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/device.sh"
. "$(dirname "$0")/lib.sh"
require_tools curl

faults_setup 2-server

# bad_requests MODE: requests badserver answered in MODE (not correctly).
bad_requests() {
    grep -c -- "-> $1:" "$BAD_LOG" || true
}

# A transient fault: the first attempt fails with CODES naming WORDS, the
# device backs off, and the next attempt (fault cleared) completes.
# transient_case ROUTE MODE TIMES "CODES" WORDS...
transient_case() {
    local where=$1 mode=$2 times=$3 codes=$4
    shift 4
    start_badserver "$mode" --dir "$WWW" --times "$times"
    route "$where" "$BAD_URL"
    sim_device "$DEVICE_URL" --timeout 1000 --attempts 4
    expect_failure "$codes" "$@"
    expect_backoff
    expect_updated
}

# A fault that is handled as final: one attempt, nothing written, the device
# stays on 1.0.0; then the fault has cleared (--times 1) and the next check
# completes.
final_case() {
    local where=$1 mode=$2 codes=$3
    shift 3
    start_badserver "$mode" --dir "$WWW" --times 1
    route "$where" "$BAD_URL"
    sim_device "$DEVICE_URL" --timeout 1000 --attempts 4
    expect_failure "$codes" "$@"
    expect_final
    slot_blank 1 0 $FAULT_SIZE && pass "$CASE: nothing reached the update slot" || fail "$CASE: slot 1 was written"
    next_check --timeout 1000 --attempts 4
    expect_updated
}

# A correct response the device must take without any error.
correct_case() {
    start_badserver "$1" --dir "$WWW"
    route manifest "$BAD_URL"
    sim_device "$DEVICE_URL" --timeout 1000 --attempts 1
    expect_eq "$(failure_code)" "" "$CASE: no error"
    expect_updated
    expect_eq "$(bad_requests "$1")" 3 "$CASE: manifest, image and the check after the reboot all answered in this form"
}

# ---- 5xx ---------------------------------------------------------------------------
fault_case "500 Internal Server Error on the manifest (twice)"
transient_case manifest status-500 2 FOTA_ERR_HTTP_SERVER "server answered 500 for http://127.0.0.1:PORT/demo/manifest.txt"
expect_eq "$(retries | wc -l)" 2 "$CASE: one retry per 500"
row "5xx is transient" "yes: on the third attempt"

fault_case "502 Bad Gateway on the image"
transient_case image status-502 1 FOTA_ERR_HTTP_SERVER "server answered 502 for http://127.0.0.1:PORT/demo/firmware/demo-2.0.0.bin"
row "5xx is transient; nothing of the image had arrived" "yes: the whole image on the next attempt"

fault_case "503 Service Unavailable without Retry-After"
transient_case manifest status-503 1 FOTA_ERR_HTTP_SERVER "server answered 503"
row "backed off by its own schedule (base 100 ms, doubled, with jitter)" "yes: on the next attempt"

fault_case "503 with Retry-After: 1"
transient_case image 503-retry-after 1 FOTA_ERR_HTTP_SERVER "server answered 503"
delay=$(retries | head -1 | sed -E 's/.* in ([0-9]+) ms/\1/')
[ -n "$delay" ] && [ "$delay" -ge 1000 ] &&
    pass "$CASE: the device waited as long as the server asked ($delay ms >= 1000 ms)" ||
    fail "$CASE: first retry in '$delay' ms, the server asked for 1000"
row "waited as long as the server asked, not its shorter own backoff" "yes: on the next attempt"

# ---- 404 -------------------------------------------------------------------------------
fault_case "404 Not Found on the manifest"
final_case manifest status-404 FOTA_ERR_HTTP_NOT_FOUND "server answered 404 Not Found for http://127.0.0.1:PORT/demo/manifest.txt"
row "4xx is final: the server says the file is not there; retrying soon would not change that" \
    "**final** for this check; yes at the next check"

fault_case "404 Not Found on the image"
final_case image status-404 FOTA_ERR_HTTP_NOT_FOUND "server answered 404 Not Found for http://127.0.0.1:PORT/demo/firmware/demo-2.0.0.bin"
row "4xx is final; nothing was erased" "**final** for this check; yes at the next check"

# ---- Lengths ---------------------------------------------------------------------------
fault_case "image: Content-Length longer than the body (body ends, connection closes)"
transient_case image short-length 1 FOTA_ERR_HTTP_LENGTH "server sends $((FAULT_SIZE + 100)) bytes" "the manifest signs $FAULT_SIZE"
row "compared Content-Length with the signed size before reading the body" "yes: on the next attempt"

fault_case "image: Content-Length shorter than the body"
transient_case image long-body 1 FOTA_ERR_HTTP_LENGTH "server sends $((FAULT_SIZE - 100)) bytes" "the manifest signs $FAULT_SIZE"
row "compared Content-Length with the signed size before reading the body" "yes: on the next attempt"

fault_case "manifest: Content-Length longer than the body"
transient_case manifest short-length 1 FOTA_ERR_CLOSED "closed the connection during the manifest"
row "the body ended before its announced length" "yes: on the next attempt"

fault_case "manifest: Content-Length shorter than the body"
final_case manifest long-body FOTA_ERR_MANIFEST_PARSE "malformed at line"
row "read exactly Content-Length bytes: a manifest cut before its signature line, which does not parse; final (a malformed manifest is final whatever cut it)" \
    "**final** for this check; yes at the next check"

# ---- Endless data -------------------------------------------------------------------
fault_case "image: body longer than the signed size (no length, the image repeated until closed)"
start_badserver endless --dir "$WWW" --times 1
route image "$BAD_URL"
sim_device "$DEVICE_URL" --timeout 1000 --attempts 4
# The device either read exactly the signed bytes and closed (the extra
# bytes never reached its buffer), or saw the first extra byte in a read,
# refused it and fetched the rest with Range. It never took more.
code=$(failure_code)
case $code in
"") pass "$CASE: took the signed $FAULT_SIZE bytes and closed the connection" ;;
FOTA_ERR_IMAGE_SIZE) expect_failure FOTA_ERR_IMAGE_SIZE "server sent more than the $FAULT_SIZE signed bytes" ;;
*) fail "$CASE: unexpected $code" ;;
esac
expect_updated
slot_blank 1 $FAULT_SIZE 65536 && pass "$CASE: nothing past the signed size was written" ||
    fail "$CASE: bytes past the signed size reached the slot"
sent=$(sed -n 's/.*-> endless: 200 without length, \([0-9]*\) bytes sent (client closed)/\1/p' "$BAD_LOG")
[ -n "$sent" ] && pass "$CASE: the device closed the endless body (the server got $sent bytes out before the close)" ||
    fail "$CASE: the endless body was not closed by the device: $(grep endless: "$BAD_LOG" | tail -1)"
row "counted against the signed size: stopped reading at byte $FAULT_SIZE (an extra byte in the same read is refused, FOTA_ERR_IMAGE_SIZE)" \
    "yes, nothing past the signed size was written"

fault_case "manifest: body that does not end (no length)"
final_case manifest endless FOTA_ERR_MANIFEST_TOO_LARGE "larger than the 2080-byte buffer"
row "stopped at its manifest buffer; final (a manifest that does not fit will not fit on a retry)" \
    "**final** for this check; yes at the next check"

# ---- Redirects ---------------------------------------------------------------------------
fault_case "redirect loop on the manifest (A -> B -> A ...)"
start_badserver redirect-loop --dir "$WWW" --times 6
route manifest "$BAD_URL"
sim_device "$DEVICE_URL" --timeout 1000 --attempts 3
expect_failure FOTA_ERR_HTTP_REDIRECTS "more than 5 redirects fetching manifest"
expect_sim 1 "result: update failed, running 1.0.0" "$CASE: the check ends with FOTA_ERR_HTTP_REDIRECTS"
expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running"
expect_eq "$(bad_requests redirect-loop)" 6 "$CASE: final: one attempt of 6 requests (5 redirects followed), not retried"
next_check --timeout 1000 --attempts 3
expect_updated
row "followed 5 redirects, then stopped; a loop is a server misconfiguration, so it is final for this check: 6 requests, no retry" \
    "**final** for this check; yes at the next check"

fault_case "redirect to itself on the image"
start_badserver redirect-self --dir "$WWW" --times 6
route image "$BAD_URL"
sim_device "$DEVICE_URL" --timeout 1000 --attempts 3
expect_failure FOTA_ERR_HTTP_REDIRECTS "more than 5 redirects fetching image"
expect_sim 1 "result: update failed, running 1.0.0" "$CASE: the check ends with FOTA_ERR_HTTP_REDIRECTS"
expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running"
slot_blank 1 0 $FAULT_SIZE && pass "$CASE: nothing was written" || fail "$CASE: slot 1 was written"
expect_eq "$(bad_requests redirect-self)" 6 "$CASE: final: one attempt of 6 requests"
next_check --timeout 1000 --attempts 3
expect_updated
row "as above: 5 redirects, then final; nothing written" \
    "**final** for this check; yes at the next check"

fault_case "302 without Location"
transient_case manifest redirect-no-location 1 FOTA_ERR_HTTP_NO_LOCATION "server answered 302 without Location"
row "a redirect with nowhere to go" "yes: on the next attempt"

# ---- Malformed or oversized responses --------------------------------------------------------
fault_case "garbage status line"
transient_case image garbage-status 1 FOTA_ERR_HTTP_PARSE "malformed HTTP response from 127.0.0.1:PORT for the image"
row "not HTTP (a captive portal, a wrong port): transient" "yes: on the next attempt"

fault_case "a 16 KiB header line the agent does not use (device line buffer 2.75 KiB)"
correct_case huge-headers
row "skipped the line without storing it" "yes, no error"

fault_case "a 40 KiB header line (past the 32 KiB bound on a header block)"
start_badserver huge-headers --dir "$WWW" --times 1 --arg 40000
route manifest "$BAD_URL"
sim_device "$DEVICE_URL" --timeout 1000 --attempts 4
expect_failure FOTA_ERR_HTTP_HEADER_TOO_LONG "header"
expect_backoff
expect_updated
row "stopped reading at the bound, no overflow" "yes: on the next attempt"

fault_case "server accepts and never answers"
transient_case image silent 1 FOTA_ERR_TIMEOUT "no data from 127.0.0.1:PORT for 1000 ms during the image"
row "gave up after the read timeout" "yes: on the next attempt"

# ---- Correct but unusual ----------------------------------------------------------------
fault_case "100 Continue and 103 Early Hints before the answer"
correct_case interim-1xx
row "skipped the interim responses" "yes, no error"

fault_case "HTTP/1.0 answer without length, closed at the end"
correct_case http10-close
row "read the body until the close and checked its size against the manifest" "yes, no error"

fault_case "chunked answers (extensions, mixed-case hex, trailer)"
correct_case chunked
row "decoded the chunks" "yes, no error"

faults_finish

#!/usr/bin/env bash
# 416 Range Not Satisfiable (issue 15, finding 1). An agent that re-asked at
# once on every 416, without counting an attempt, made 25,709 image requests
# in 20 s against a server that answered 416 to everything. Now a 416 to a
# request without Range is a final error (FOTA_ERR_HTTP_UNSATISFIABLE), and a
# 416 (or a 200) to a resume starts the download over as one more attempt,
# after the backoff with jitter. Writes its rows of the fault table and the
# figures in $FOTA_BUILD/status416-figures.txt.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/device.sh"
. "$(dirname "$0")/lib.sh"
require_tools curl

faults_setup 3-status416

bad_requests() {
    grep -c -- "-> $1:" "$BAD_LOG" || true
}
# image_requests: requests for the image the badserver saw (all modes)
image_requests() {
    grep -c -- "GET /$PRODUCT/firmware/" "$BAD_LOG" || true
}
FIGURES=${FOTA_BUILD:-$FOTA_TEST_TMP}/status416-figures.txt
: >"$FIGURES"

fault_case "416 to every image request, also without Range"
start_badserver status-416 --dir "$WWW"
route image "$BAD_URL"
sim_device "$DEVICE_URL" --timeout 1000 --attempts 4 --deadline 20000
expect_failure FOTA_ERR_HTTP_UNSATISFIABLE "server answered 416 to a request for the whole of" \
    "which had no Range: the server is misconfigured"
expect_final
expect_eq "$(bad_requests status-416)" 1 "$CASE: one image request in the check, not a storm"
slot_blank 1 0 $FAULT_SIZE && pass "$CASE: nothing was written" || fail "$CASE: slot 1 was written"
echo "always-416: image requests in one check (attempts 4, deadline 20 s): $(bad_requests status-416)" >>"$FIGURES"
row "a 416 to a request that asked for the whole image: the server is broken; final for this check, no request storm (1 request)" \
    "**final** for this check"

fault_case "416 to every resume (Range), the image cut at 64 KiB otherwise"
start_badserver range-416 --dir "$WWW"
route image "$BAD_URL"
sim_device "$DEVICE_URL" --timeout 1000 --attempts 4 --backoff 100 --verbose
expect_failure "FOTA_ERR_CLOSED|FOTA_ERR_HTTP_RANGE" "image"
expect_backoff
expect_sim 1 "result: update failed, running 1.0.0" "$CASE: the check ends once its attempts are used"
expect_eq "$(image_requests)" 4 "$CASE: one image request per attempt (4 attempts)"
expect_contains "$(cat "$SIM_OUT")" "server answered 416 to bytes 65536- of" \
    "$CASE: the 416 to the resume is reported"
n416=$(grep -c -- '-> range-416: 416 to Range' "$BAD_LOG" || true)
nretry=$(retries | wc -l)
[ "$nretry" -ge 3 ] && pass "$CASE: every start-over waited for the backoff ($nretry retries)" ||
    fail "$CASE: only $nretry retries with backoff"
echo "range-416: image requests in one check with 4 attempts: $(image_requests) ($n416 answered 416, $nretry retries with backoff)" >>"$FIGURES"
row "the resume (Range) answered 416: the download starts over from 0 as a new attempt after the backoff; attempts bound the check" \
    "no (the server never resumes nor sends the whole image)"

faults_finish

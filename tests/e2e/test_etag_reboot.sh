#!/usr/bin/env bash
# The manifest ETag survives a reboot (issue 15, "what to build" 7): a device
# that found "nothing newer" saves the manifest's ETag with its state, so the
# first check after the next power-on asks with If-None-Match and gets a 304
# instead of the manifest and a signature check. A new release (new ETag)
# still comes through; a changed manifest URL does not use the old ETag.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/device.sh"
require_tools curl

prepare_release
log=$WORK/access.log
start_fota_serve "$WWW" --access-log "$log"
URL=$SERVE_URL/$PRODUCT/manifest.txt
manifest_statuses() {
    grep -F "GET /$PRODUCT/manifest.txt" "$log" | awk '{print $5}' | tr '\n' ' '
}

sim_device "$URL"
expect_sim 0 "result: up to date, running 1.0.0" "first power-on: up to date"
sim_device "$URL"
expect_sim 0 "result: up to date, running 1.0.0" "second power-on: up to date"
expect_eq "$(manifest_statuses)" "200 304 " "the check after the reboot got 304 Not Modified"

release "$FW2"
sim_device "$URL"
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed" "a new release still comes through"
expect_contains "$(manifest_statuses)" "200 304 200" "its manifest was fetched whole"

# another URL for the same manifest: the saved ETag is not sent there
sim_device "$URL?moved=1"
expect_sim 0 "result: up to date, running 2.0.0" "up to date at another URL"
expect_eq "$(grep -cF "GET /$PRODUCT/manifest.txt?moved=1 200" "$log")" 1 \
    "the ETag saved for one URL is not used for another"
finish

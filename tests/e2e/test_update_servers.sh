#!/usr/bin/env bash
# The simulated device updates itself from three different real web servers:
# fota serve (libmicrohttpd), nginx and Python's http.server.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/device.sh"
require_tools curl nginx python3

for server in fota nginx python; do
    prepare_release
    case $server in
    fota) start_fota_serve "$WWW"; base=$SERVE_URL ;;
    nginx) start_nginx "$WWW"; base=$NGINX_URL ;;
    python) start_python_http "$WWW"; base=$PY_URL ;;
    esac
    url=$base/$PRODUCT/manifest.txt

    sim_device "$url"
    expect_sim 0 "result: up to date, running 1.0.0" "$server: factory 1.0.0 is up to date"

    release "$FW2"
    sim_device "$url"
    expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed" "$server: updates 1.0.0 -> 2.0.0"
    expect_contains "$(cat "$SIM_OUT")" "(pending-verify)" "$server: new image boots as pending-verify"
    expect_contains "$(cat "$SIM_OUT")" "2.0.0 confirmed" "$server: new image confirms itself"
    expect_contains "$(cat "$SIM_OUT")" "pre-update hook" "$server: pre-update hook ran before flashing"

    sim_device "$url"
    expect_sim 0 "result: up to date, running 2.0.0" "$server: stays on 2.0.0 after a reboot"
done

# fota serve answers a repeated check with 304 thanks to If-None-Match.
prepare_release
start_fota_serve "$WWW"
url=$SERVE_URL/$PRODUCT/manifest.txt
sim_device "$url" --checks 3
expect_sim 0 "result: up to date, running 1.0.0" "three periodic checks stay up to date"
expect_eq "$(grep -c 'manifest.txt.* 304 ' "$SERVE_LOG" || true)" 2 "the second and third checks get 304 Not Modified"
# The event callback reports the milestones, in order, for status reports.
prepare_release
release "$FW2"
start_fota_serve "$WWW"
sim_device "$SERVE_URL/$PRODUCT/manifest.txt" --verbose
events=$(sed -n 's/^  event: //p' "$SIM_OUT" | tr '\n' ' ')
expect_eq "$events" "confirmed checking update-available downloading verified activated confirmed checking no-update " \
    "events: confirmed (factory), checking, update-available, downloading, verified, activated, confirmed, checking, no-update"

# Per-device manifests, as people host BASE/<MAC>.version today: "{mac}" in
# the manifest URL becomes this device's MAC.
prepare_release
release "$FW2"
cp -r "$WWW/$PRODUCT" "$WWW/24A160B2C3D4"
start_fota_serve "$WWW"
sim_device "$SERVE_URL/{mac}/manifest.txt" --mac 24A160B2C3D4
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed" "{mac} in the manifest URL: the device updates from its own manifest"
expect_contains "$(cat "$SERVE_LOG")" "GET /24A160B2C3D4/manifest.txt 200" "the request named the device's MAC"
finish

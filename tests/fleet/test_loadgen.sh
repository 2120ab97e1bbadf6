#!/usr/bin/env bash
# fota fleet sim's failure injection, seen by the server: devices whose
# update slot drops writes fail the read-back verification, report it at
# their next check-in, and the server records the error and counts the
# failures against the rollout, which pauses itself.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/fleet.sh"
require_tools curl

fleet_releases 1.0.0 2.0.0
start_fleet
fleet releases add "$WORK/manifest-2.0.0.txt" >/dev/null
fleet_sim --devices 40 --id-prefix v- >/dev/null
fleet rollouts create --release 1 --failure 20 --min-sample 10 >/dev/null
out=$(fleet_sim --devices 40 --id-prefix v- --fail-verify 25 --rounds 2)
printf '%s\n' "$out" | sed 's/^/    /'
expect_contains "$out" "40 devices v-0000..v-0039, 10 with a failing update slot" "10 of 40 devices get a failing slot"
expect_contains "$out" "FOTA_ERR_FLASH_VERIFY" "their update fails the read-back verification"
fleet --json devices >"$WORK/devices.json"
failed=$(grep -c '"error_name": "FOTA_ERR_FLASH_VERIFY"' "$WORK/devices.json" || true)
expect_eq "$failed" 10 "the server recorded the verification failure of each of the 10"
show=$(fleet rollouts show 1)
printf '%s\n' "$show" | sed 's/^/    | /'
expect_contains "$show" "failed or rolled back, above the 20% threshold" "and the rollout paused itself"
expect_contains "$show" "failed 2.0.0 (error $(grep -m1 -o '"error": -[0-9]*' "$WORK/devices.json" | grep -o -- '-[0-9]*'))" \
    "its history names a device that failed, with the error code"
finish

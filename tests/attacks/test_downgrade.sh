#!/usr/bin/env bash
# Rollback (downgrade) attacks: a validly signed older version, and a newer version whose
# security counter is below the floor the device raised when it confirmed an
# image released with --security-counter. The device refuses both and keeps
# running what it runs; the update slot is never selected.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/device.sh"
. "$(dirname "$0")/lib.sh"
require_tools curl
attacks_setup 1-rollback

attack "rollback" "an older version, validly signed"
fresh_release
sim_device "$URL"
expect_sim 0 "result: up to date, running 1.0.0" "$CASE: the device runs 1.0.0"
"$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 0.9.0 --size 262144 -o "$WORK/old.bin" >/dev/null
release "$WORK/old.bin" --allow-downgrade
sim_device "$URL"
expect_refused FOTA_ERR_NOT_NEWER "server offers 0.9.0 (code 9000), older than the running 1.0.0 (code 1000000)"
expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running, no slot was selected"
slot_blank 1 0 262144 && pass "$CASE: the update slot was never written" || fail "$CASE: slot 1 was written"
attack_row "publishes an old, validly signed release (with a new sequence number) to bring back its known bugs" \
    "the version code must be higher than the running firmware's"

attack "rollback" "a newer version below the security floor"
fresh_release
release "$FW2" --security-counter 2
sim_device "$URL"
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed" "$CASE: 2.0.0 (security counter 2) installs"
expect_contains "$(cat "$SIM_OUT")" "2.0.0 confirmed (was pending-verify), anti-rollback floor 2" \
    "$CASE: confirming 2.0.0 raised the floor to 2"
"$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 3.0.0 --size 262144 -o "$WORK/v3.bin" >/dev/null
release "$WORK/v3.bin" --security-counter 1 --allow-downgrade
sim_device "$URL"
expect_refused FOTA_ERR_ROLLBACK "security counter 1 is below this device's floor 2: rollback refused"
expect_not_activated 2.0.0 "$CASE: 2.0.0 keeps running, no slot was selected"
slot_holds 0 "$FW1" && pass "$CASE: the update slot (0) still holds 1.0.0, untouched" ||
    fail "$CASE: slot 0 was written"
# the floor is persistent: the refusal holds after another boot
sim_device "$URL"
expect_refused FOTA_ERR_ROLLBACK "below this device's floor 2"
attack_row "publishes a release with a higher version but an old security counter (a vulnerable build re-labelled)" \
    "the floor: confirming an image raises the device's persistent floor to its security counter; lower counters are refused"
attacks_finish

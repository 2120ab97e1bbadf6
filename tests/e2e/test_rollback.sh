#!/usr/bin/env bash
# A release that crashes before confirming itself is rolled back by the
# bootloader; the device remembers it, does not install it again, and takes
# the next good release.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/device.sh"
require_tools curl

prepare_release
start_fota_serve "$WWW"
url=$SERVE_URL/$PRODUCT/manifest.txt
sim_device "$url"
"$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 2.0.0 --size 262144 \
    --marker FOTA-SIM-CRASH -o "$WORK/bad.bin" >/dev/null
release "$WORK/bad.bin"
sim_device "$url" --verbose
expect_sim 4 "result: rolled back; running 1.0.0" "an image that never confirms is rolled back"
expect_contains "$(cat "$SIM_OUT")" "event: rolled-back" "the agent reports the rollback as an event"
expect_contains "$(cat "$SIM_OUT")" "crashed before confirming" "the bad image booted once"
expect_contains "$(cat "$SIM_OUT")" "was never confirmed: rolled back" "the bootloader rolled back"
expect_contains "$(cat "$SIM_OUT")" "FOTA_ERR_REJECTED_VERSION" "the rolled-back version is not installed again"

sim_device "$url"
expect_sim 1 "FOTA_ERR_REJECTED_VERSION" "after another reboot it still refuses 2.0.0"
expect_eq "$(grep -c 'firmware/demo-2.0.0.bin' "$SERVE_LOG")" 1 "the bad image was downloaded exactly once"

"$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 2.0.1 --size 262144 -o "$WORK/fixed.bin" >/dev/null
release "$WORK/fixed.bin"
sim_device "$url"
expect_sim 0 "result: updated 1.0.0 -> 2.0.1 and confirmed" "the next good release installs"
finish

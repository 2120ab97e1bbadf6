#!/usr/bin/env bash
# Replay and freeze. A device that has seen sequence 3 refuses a replayed,
# validly signed manifest with sequence 2 even though it offers a version
# newer than the one running (a device that never saw 3 would take it). An
# expired manifest is refused by a device with trusted time; a device without
# trusted time cannot tell and takes it (what it does is shown, not hidden).
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/device.sh"
. "$(dirname "$0")/lib.sh"
require_tools curl
attacks_setup 2-replay-freeze

attack "replay" "a replayed older manifest"
fresh_release
release "$FW2"                                   # sequence 2
cp "$WWW/$PRODUCT/manifest.txt" "$WORK/manifest-seq2.txt"
"$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 3.0.0 --size 262144 -o "$WORK/v3.bin" >/dev/null
release "$WORK/v3.bin"                           # sequence 3
sim_device "$URL" --check-only
expect_sim 5 "result: update available: 3.0.0, running 1.0.0" "$CASE: the device has seen sequence 3 (3.0.0 offered)"
cp "$WORK/manifest-seq2.txt" "$WWW/$PRODUCT/manifest.txt"   # the attacker serves the old one
sim_device "$URL"
expect_refused FOTA_ERR_REPLAY "manifest sequence 2 is older than 3 already seen: replayed manifest"
expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running, no slot was selected"
slot_blank 1 0 262144 && pass "$CASE: the update slot was never written" || fail "$CASE: slot 1 was written"
attack_row "serves an older, validly signed manifest (2.0.0, sequence 2) to a device that has seen sequence 3, to hold it on a release with known bugs" \
    "the highest sequence accepted is kept in flash; a lower one is refused before the version is looked at"
# Control: the same manifest is a valid release for a device that never saw 3.
mv "$WORK/dev" "$WORK/dev-attacked"
sim_device "$URL"
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed" \
    "control: a device that never saw sequence 3 installs that same manifest's 2.0.0"

attack "freeze" "an expired manifest, device with trusted time"
fresh_release
release "$FW2" --expires 2001-01-01T00:00:00Z
sim_device "$URL"
expect_refused FOTA_ERR_EXPIRED "manifest for 2.0.0 expired" "seconds ago"
expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running, no slot was selected"
slot_blank 1 0 262144 && pass "$CASE: the update slot was never written" || fail "$CASE: slot 1 was written"
attack_row "keeps serving a manifest past its signed expiry, so the device never learns of newer releases" \
    "the signed expires: field, compared with the device's trusted time"
# Control: the same manifest before its expiry is accepted.
rm -rf "${WORK:?}/dev"
sim_device "$URL" --utc 978220800   # 2000-12-31T00:00:00Z
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed" \
    "control: a device whose trusted time is before the expiry installs it"

attack "freeze" "an expired manifest, device without trusted time"
rm -rf "${WORK:?}/dev"
sim_device "$URL" --no-clock
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed" \
    "$CASE: a device without trusted time cannot check expiry and installs the expired release"
expect_eq "$(failure_code)" "" "$CASE: no error is reported"
attack_row "as above, against a device with no trusted clock" \
    "nothing: without trusted time the expiry cannot be checked (documented limit; the sequence still stops replays of older manifests). Uptane's remedy is a device nonce signed by a time server"
attacks_finish

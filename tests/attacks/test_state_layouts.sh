#!/usr/bin/env bash
# Replay and rollback across a firmware update that changes the layout of the
# agent's saved state (issue 15, finding 6). Earlier firmware stored struct
# fota_persist raw (layouts 1 and 2); a firmware with another layout used to
# "start fresh", forgetting the highest sequence and the floor on exactly
# the devices that had just updated. The device here holds the state an
# earlier firmware wrote (written into its flash as that firmware did); the
# attacker then serves a replayed manifest, or a release below the floor.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/device.sh"
. "$(dirname "$0")/lib.sh"
require_tools curl python3
attacks_setup 6-state-layouts

# old_state LAYOUT SEQUENCE FLOOR: the agent state region of the device's
# flash (0x2000, two 4 KiB sectors) holds just one copy of raw layout
# LAYOUT, as the firmware of that layout wrote it (record store copy: magic,
# sequence, length, the struct's bytes, CRC-32; little-endian).
old_state() {
    python3 - "$WORK/dev/flash.bin" "$@" <<'EOF'
import struct, sys, zlib
path, layout, seq, floor = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
if layout == 1:
    data = struct.pack('<IIIIIiI32sIIi', 1, seq, floor, 0, 0, -1, 0, bytes(32), 0, 0, -1)
else:
    data = struct.pack('<IIIIIiiI32sIIi', 2, seq, floor, 0, 0, -1, -1, 0, bytes(32), 0, 0, -1)
rec = struct.pack('<III', 0x46524543, 41, len(data)) + data
rec += struct.pack('<I', zlib.crc32(rec))
region = bytearray(b'\xff' * 8192)
region[:len(rec)] = rec
with open(path, 'r+b') as f:
    f.seek(0x2000)
    f.write(region)
EOF
}

for layout in 1 2; do
    attack "replay" "a replayed manifest after an update from state layout $layout"
    fresh_release
    release "$FW2"                                   # sequence 2
    cp "$WWW/$PRODUCT/manifest.txt" "$WORK/manifest-seq2.txt"
    "$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 3.0.0 --size 262144 -o "$WORK/v3.bin" >/dev/null
    release "$WORK/v3.bin"                           # sequence 3
    sim_device "$URL" --check-only                   # the device exists
    old_state "$layout" 3 0                          # ... and had seen sequence 3
    cp "$WORK/manifest-seq2.txt" "$WWW/$PRODUCT/manifest.txt"
    sim_device "$URL" --verbose
    expect_refused FOTA_ERR_REPLAY "manifest sequence 2 is older than 3 already seen: replayed manifest"
    expect_contains "$(cat "$SIM_OUT")" "agent state migrated from layout $layout: sequence 3" \
        "$CASE: the agent says it migrated the state"
    expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running, no slot was selected"
    attack_row "serves an older, validly signed manifest (sequence 2) to a device whose state (sequence 3) an earlier firmware saved in raw layout $layout" \
        "the state is migrated field by field from every earlier layout (docs/state.md); the sequence never goes down"

    attack "rollback" "a release below the floor after an update from state layout $layout"
    fresh_release
    "$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 4.0.0 --size 262144 -o "$WORK/v4.bin" >/dev/null
    sim_device "$URL" --check-only
    old_state "$layout" 1 5                          # floor 5, from a confirmed release
    release "$WORK/v4.bin" --security-counter 2      # newer, but a lower counter
    sim_device "$URL"
    expect_refused FOTA_ERR_ROLLBACK "security counter 2 is below this device's floor 5"
    expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running, no slot was selected"
    attack_row "publishes a newer version with an old security counter to a device whose floor (5) an earlier firmware saved in raw layout $layout" \
        "the floor is migrated with the state and never goes down"
done

attack "rollback" "a release below the build-time floor, agent state unreadable"
fresh_release
"$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 4.0.0 --size 262144 -o "$WORK/v4.bin" >/dev/null
release "$WORK/v4.bin" --security-counter 2
sim_device "$URL" --check-only
python3 - "$WORK/dev/flash.bin" <<'EOF'
import sys
with open(sys.argv[1], 'r+b') as f:
    f.seek(0x2000)
    f.write(bytes((i * 131 + 7) & 0xFF for i in range(8192)))  # no valid copy at all
EOF
sim_device "$URL" --floor-min 3 --verbose
expect_refused FOTA_ERR_ROLLBACK "security counter 2 is below this device's floor 3"
expect_contains "$(cat "$SIM_OUT")" "agent state at flash 0x2000 is unreadable" "$CASE: the agent reports the unreadable state"
expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running, no slot was selected"
attack_row "publishes an old security counter to a device whose saved state was destroyed" \
    "the device stays bound by the floor compiled into its firmware (security_floor_min), not 0; the loss is logged at error level"

attacks_finish

#!/usr/bin/env bash
# Every chip in esptool's current table (issue 9, item 6): images for each are
# recognised, released and (ESP32-H4) installed on a simulated device from
# fota serve; a 0xE9 file that is not an image is never called "raw" without
# the header field that fails.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/compat.sh"
dir=$(fota_tmpdir)
cd "$dir"
"$FOTA" keygen -o k >/dev/null

# name, display name, IMAGE_CHIP_ID (esptool/targets/*.py)
while read -r chip display id; do
    "$FOTA" mkimage --chip "$chip" --version 1.0.0 --project p --size 4096 -o "$chip.bin" >/dev/null
    out=$("$FOTA" inspect "$chip.bin")
    expect_contains "$out" "chip:            $display (chip id $id)" "$chip: inspect names $display"
    expect_contains "$out" "result:   valid" "$chip: valid"
    out=$("$FOTA" release --key k.key --product "p-$chip" --chip "$chip" --out rel "$chip.bin" 2>&1)
    expect_contains "$out" "released p-$chip 1.0.0 for $display" "$chip: released with --chip $chip"
    expect_contains "$(cat "rel/p-$chip/manifest.txt")" "chip: $chip" "$chip: manifest names it"
done <<'LIST'
esp32 ESP32 0x0000
esp32s2 ESP32-S2 0x0002
esp32c3 ESP32-C3 0x0005
esp32s3 ESP32-S3 0x0009
esp32c2 ESP32-C2 0x000c
esp32c6 ESP32-C6 0x000d
esp32h2 ESP32-H2 0x0010
esp32p4 ESP32-P4 0x0012
esp32c61 ESP32-C61 0x0014
esp32c5 ESP32-C5 0x0017
esp32h21 ESP32-H21 0x0019
esp32h4 ESP32-H4 0x001c
esp32e22 ESP32-E22 0x001f
esp32s31 ESP32-S31 0x0020
LIST

# An ESP32-H4 device updates itself from fota serve
"$FOTA" mkimage --chip esp32h4 --version 1.0.0 --project h4 --size 8192 -o h4-1.bin >/dev/null
"$FOTA" mkimage --chip esp32h4 --version 1.1.0 --project h4 --size 8192 -o h4-2.bin >/dev/null
"$FOTA" release --key k.key --product h4 --out rel h4-2.bin >/dev/null
start_fota_serve "$dir/rel"
out=$(sim_device --url "$SERVE_URL/h4/manifest.txt" --key k.pub --product h4 --chip esp32h4 \
    --factory h4-1.bin --dir dev 2>&1) || true
expect_contains "$out" "result: updated 1.0.0 -> 1.1.0 and confirmed" "ESP32-H4 device updated"
# ... and an ESP32-C6 device refuses the H4 image before erasing anything
"$FOTA" mkimage --chip esp32c6 --version 1.0.0 --project h4 --size 8192 -o c6-1.bin >/dev/null
out=$(sim_device --url "$SERVE_URL/h4/manifest.txt" --key k.pub --product h4 --chip esp32c6 \
    --factory c6-1.bin --dir dev-c6 2>&1) || true
expect_contains "$out" "manifest is for ESP32-H4 but this device is ESP32-C6" "ESP32-C6 refuses an H4 release"

# 0xE9 files that are not images: the failing field is named
cp esp32.bin bad.bin; poke bad.bin 12 0x21   # chip id 0x0021: not in esptool's table
out=$("$FOTA" inspect bad.bin)
expect_contains "$out" "note:     starts with 0xE9, an ESP image's magic, but the header is invalid: chip id (bytes 12-13) is 0x21" "unknown chip id named"
cp esp32.bin bad.bin; poke bad.bin 21 0x01
out=$("$FOTA" inspect bad.bin)
expect_contains "$out" "reserved bytes 19-22 is 0x10000, must be zero" "reserved bytes named"
cp esp32.bin bad.bin; poke bad.bin 1 0x02   # 2 -> 0 segments
out=$("$FOTA" inspect bad.bin)
expect_contains "$out" "segment count (byte 1) is 0x0, must be 1..16" "segment count named"
out=$("$FOTA" release --key k.key --product bad --out rel bad.bin 2>&1 || true)
expect_contains "$out" "segment count (byte 1) is 0x0" "release names the field too"
finish

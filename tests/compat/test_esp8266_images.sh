#!/usr/bin/env bash
# Arduino ESP8266 binaries of every core version (issue 9, item 1): core 2.7.0
# on stores the flash length and a CRC-32 in the first 8 bytes of the sketch's
# first segment after the XOR checksum was computed over zeros there. Both
# layouts are inspected, released, corrupted in each checksum, and served to a
# simulated ESP8266 by nginx and by fota serve.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/compat.sh"
require_tools python3
dir=$(fota_tmpdir)
cd "$dir"
"$FOTA" keygen -o k >/dev/null

# -- both layouts, as fota mkimage writes them --------------------------------
"$FOTA" mkimage --chip esp8266 --version 2024061501 --project blinky --size 65536 -o crc1.bin >/dev/null
"$FOTA" mkimage --chip esp8266 --version 2024061502 --project blinky --size 69632 -o crc2.bin >/dev/null
"$FOTA" mkimage --chip esp8266 --version 2024061501 --project blinky --size 65536 --no-crc -o old.bin >/dev/null
out=$("$FOTA" inspect crc1.bin)
expect_contains "$out" "flash crc:       elf2bin layout (core 2.7.0 on): length 65536 at 0x1010 valid" "CRC layout recognised"
expect_contains "$out" "result:   valid" "CRC layout image is valid"
out=$("$FOTA" inspect old.bin)
expect_contains "$out" "flash crc:       none (the layout before Arduino core 2.7.0)" "old layout recognised"
expect_contains "$out" "result:   valid" "old layout image is valid"

# elf2bin's own procedure applied to the mkimage output gives the same bytes
cp crc1.bin again.bin && esp8266_add_crc again.bin
expect_file_eq again.bin crc1.bin "mkimage's CRC equals elf2bin's add_crc"

# -- each corruption, named ---------------------------------------------------
check_bad() { # FILE EXPECTED-TEXT WHAT
    local rc=0 out
    out=$("$FOTA" inspect "$1" 2>&1) || rc=$?
    expect_eq "$rc" 1 "inspect exit 1: $3"
    expect_contains "$out" "$2" "inspect names it: $3"
    rc=0
    out=$("$FOTA" release --key k.key --product blinky --version 1 --out rel-bad "$1" 2>&1) || rc=$?
    expect_ne "$rc" 0 "release refuses: $3"
    expect_contains "$out" "$2" "release names it: $3"
}
last=$((65536 - 1))
cp crc1.bin c.bin; poke c.bin $last 0x10; esp8266_add_crc c.bin
check_bad c.bin "XOR checksum of the sketch image does not match" "CRC layout, checksum (CRC recomputed)"
out=$("$FOTA" inspect c.bin 2>&1 || true)
expect_contains "$out" "CRC 0x" "CRC still shown"
case $out in *"flash CRC (offset"*) fail "a recomputed CRC is not reported as failing" ;; *) pass "only the checksum fails" ;; esac
cp crc1.bin c.bin; poke c.bin 0x1016 0x01
check_bad c.bin "flash CRC (offset 0x1014) is 0x" "CRC layout, stored CRC"
cp crc1.bin c.bin; put_le32 c.bin 0x1010 65552
check_bad c.bin "stored flash length 65552 (offset 0x1010) is not where the image ends (65536 bytes)" "CRC layout, stored length"
cp crc1.bin c.bin; poke c.bin 0x3000 0x04
check_bad c.bin "XOR checksum of the sketch image does not match its segment data (read with the CRC words as zero" "CRC layout, a data byte (checksum)"
check_bad c.bin "flash CRC (offset 0x1014)" "CRC layout, a data byte (CRC)"
cp old.bin c.bin; poke c.bin $last 0x10
check_bad c.bin "XOR checksum of the sketch image does not match its segment data" "old layout, checksum"
cp old.bin c.bin; poke c.bin 0x1014 0x01
check_bad c.bin "XOR checksum of the sketch image does not match its segment data" "old layout, the bytes a newer core uses for the CRC"
cp old.bin c.bin; poke c.bin 0x1010 0x01
check_bad c.bin "XOR checksum of the sketch image does not match its segment data" "old layout, the bytes a newer core uses for the length"

# -- the real Arduino sketch of ../shared, in both layouts ------------------------
real=$SHARED/testdata/esp-images/esp8266_deepsleep.bin
if [ -f "$real" ]; then
    out=$("$FOTA" inspect "$real")
    expect_contains "$out" "flash crc:       none" "real pre-2.7 sketch: old layout"
    expect_contains "$out" "result:   valid" "real pre-2.7 sketch: valid"
    # as core 2.7.0 on builds it: zeros where the words go, checksum over
    # them, then add_crc
    cp "$real" real-crc.bin
    put_le32 real-crc.bin 0x1010 0; put_le32 real-crc.bin 0x1014 0
    esp8266_fix_checksum real-crc.bin
    esp8266_add_crc real-crc.bin
    out=$("$FOTA" inspect real-crc.bin)
    expect_contains "$out" "flash crc:       elf2bin layout (core 2.7.0 on): length 297632 at 0x1010 valid" "real sketch, current core: CRC layout"
    expect_contains "$out" "result:   valid" "real sketch, current core: valid"
    out=$("$FOTA" release --key k.key --product deepsleep --version 3.1.2 --out rel-real real-crc.bin 2>&1)
    expect_contains "$out" "released deepsleep 3.1.2 for ESP8266" "real sketch, current core: released"
else
    note "shared test data not present ($real): real-image checks skipped"
fi

# -- released and installed on a simulated ESP8266, from nginx and fota serve -----
"$FOTA" release --key k.key --product blinky --out rel crc2.bin --version 2024061502 >/dev/null
start_nginx "$dir/rel"
start_fota_serve "$dir/rel"
for server in "$NGINX_URL" "$SERVE_URL"; do
    rm -rf dev
    out=$(sim_device --url "$server/blinky/manifest.txt" --key k.pub --product blinky --chip esp8266 \
        --factory crc1.bin --dir dev 2>&1) || true
    expect_contains "$out" "result: updated 2024061501 -> 2024061502 and confirmed" "ESP8266 sim updated from $server"
    out=$(sim_device --url "$server/blinky/manifest.txt" --key k.pub --product blinky --chip esp8266 \
        --dir dev 2>&1) || true
    expect_contains "$out" "result: up to date, running 2024061502" "then up to date ($server)"
done
# an old-layout device takes a current-core image
rm -rf dev
out=$(sim_device --url "$SERVE_URL/blinky/manifest.txt" --key k.pub --product blinky --chip esp8266 \
    --factory old.bin --dir dev 2>&1) || true
expect_contains "$out" "result: updated 2024061501 -> 2024061502 and confirmed" "pre-2.7 sketch updated to a 2.7+ one"
finish

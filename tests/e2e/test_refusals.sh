#!/usr/bin/env bash
# What the device must refuse, each with its own error, without touching the
# running image: a tampered image, a manifest signed by another key (and one
# that claims our key id), a wrong-chip manifest and image, an older version.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/device.sh"
require_tools curl python3

# slot_blank FLASH: is slot 1 (0x210000 with the default 2 MiB slots) erased?
slot1_blank() {
    python3 -c "import sys; d=open(sys.argv[1],'rb').read(); s=d[0x210000:0x210000+0x40000]; sys.exit(0 if s==b'\xff'*len(s) else 1)" "$WORK/dev/flash.bin"
}
image_of() { echo "$WWW/$PRODUCT/firmware/$PRODUCT-$1.bin"; }

# 1. Tampered image
prepare_release
start_fota_serve "$WWW"
url=$SERVE_URL/$PRODUCT/manifest.txt
release "$FW2"
printf '\x00' | dd of="$(image_of 2.0.0)" bs=1 seek=100000 conv=notrunc status=none
sim_device "$url" --attempts 2
expect_sim 1 "FOTA_ERR_IMAGE_HASH" "a tampered image is refused with FOTA_ERR_IMAGE_HASH"
expect_contains "$(cat "$SIM_OUT")" "SHA-256 mismatch after 262144 bytes" "the message names the hash and the byte count"
expect_contains "$(cat "$SIM_OUT")" "running 1.0.0" "1.0.0 keeps running"

# 2. A manifest signed by another key; then one that claims our key id
prepare_release
start_fota_serve "$WWW"
url=$SERVE_URL/$PRODUCT/manifest.txt
"$FOTA_BIN" keygen -o "$WORK/other" >/dev/null
"$FOTA_BIN" release --key "$WORK/other.key" --product $PRODUCT --out "$WWW" "$FW2" >/dev/null
sim_device "$url"
expect_sim 1 "FOTA_ERR_UNKNOWN_KEY" "a manifest signed by an untrusted key is refused"
our_id=$("$FOTA_BIN" inspect "$WWW/../key.pub" 2>/dev/null | sed -n 's/.*key id[: ]*\([0-9a-f]\{16\}\).*/\1/Ip' | head -1)
if [ -z "$our_id" ]; then
    our_id=$(grep -o '[0-9a-f]\{16\}' "$KEY.pub.h" | head -1)
fi
sed -i "s/^key-id: .*/key-id: $our_id/" "$WWW/$PRODUCT/manifest.txt"
sim_device "$url"
expect_sim 1 "FOTA_ERR_SIGNATURE" "a manifest claiming our key id with a foreign signature is refused"
slot1_blank && pass "refused manifests never touch the update slot" || fail "slot 1 was written"

# 3. Wrong chip: in the manifest, and in the image header behind a lying manifest
prepare_release
start_fota_serve "$WWW"
url=$SERVE_URL/$PRODUCT/manifest.txt
"$FOTA_BIN" mkimage --chip esp32s2 --project $PRODUCT --version 2.0.0 --size 262144 -o "$WORK/s2.bin" >/dev/null
rm -rf "${WWW:?}/$PRODUCT" # a product stays on one chip: start its release history over
release "$WORK/s2.bin"
sim_device "$url"
expect_sim 1 "FOTA_ERR_WRONG_CHIP" "a manifest for ESP32-S2 is refused on an ESP32"
expect_contains "$(cat "$SIM_OUT")" "manifest is for ESP32-S2 but this device is ESP32" "the message names both chips"
"$FOTA_BIN" mkimage --chip esp32s2 --project $PRODUCT --version 3.0.0 --size 262144 -o "$WORK/s2b.bin" >/dev/null
# a correctly signed ESP32 release whose file on the server is swapped for the
# ESP32-S2 build: the header on the first bytes stops it before any erase
rm -rf "${WWW:?}/$PRODUCT"
"$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 3.0.0 --size 262144 -o "$WORK/v3.bin" >/dev/null
release "$WORK/v3.bin"
cp "$WORK/s2b.bin" "$(image_of 3.0.0)"
sim_device "$url" --attempts 1
expect_sim 1 "FOTA_ERR_IMAGE_CHIP" "an ESP32-S2 image behind an ESP32 manifest is refused"
expect_contains "$(cat "$SIM_OUT")" "image is for ESP32-S2 but this device is ESP32: refused before flashing" "refused from the header"
slot1_blank && pass "the wrong-chip image never touched flash" || fail "slot 1 was written"

# 4. An older version
prepare_release
start_fota_serve "$WWW"
url=$SERVE_URL/$PRODUCT/manifest.txt
"$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 0.9.0 --size 262144 -o "$WORK/old.bin" >/dev/null
sim_device "$url"
release "$WORK/old.bin" --allow-downgrade
sim_device "$url"
expect_sim 1 "FOTA_ERR_NOT_NEWER" "an older version is refused"
expect_contains "$(cat "$SIM_OUT")" "older than the running 1.0.0" "the message names both versions"
finish

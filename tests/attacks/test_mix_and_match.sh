#!/usr/bin/env bash
# Mix-and-match: validly signed metadata (same key) meant for another product
# or another chip, an image for another chip behind a valid manifest, and a
# manifest whose url: points at another product's image (the hash catches it).
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/device.sh"
. "$(dirname "$0")/lib.sh"
require_tools curl
attacks_setup 3-mix-and-match

# release_other PRODUCT CHIP VERSION [ARGS]: an image and manifest signed with
# the same key, in $WORK/other (a product stays on one chip in its own tree).
release_other() {
    local product=$1 chip=$2 version=$3
    shift 3
    "$FOTA_BIN" mkimage --chip "$chip" --project "$product" --version "$version" --size 262144 \
        -o "$WORK/$product-$chip-$version.bin" >/dev/null
    "$FOTA_BIN" release --key "$KEY.key" --product "$product" --out "$WORK/other-$chip" "$@" \
        "$WORK/$product-$chip-$version.bin" >/dev/null
}

attack "mix-and-match" "a signed manifest for another product"
fresh_release
release_other other-board esp32 2.0.0
cp "$WORK/other-esp32/other-board/manifest.txt" "$WWW/$PRODUCT/manifest.txt"
mkdir -p "$WWW/$PRODUCT/firmware" && cp "$WORK/other-esp32/other-board/firmware/"* "$WWW/$PRODUCT/firmware/"
sim_device "$URL"
expect_refused FOTA_ERR_WRONG_PRODUCT "manifest is for product 'other-board', this device is 'demo'"
expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running, no slot was selected"
slot_blank 1 0 262144 && pass "$CASE: the update slot was never written" || fail "$CASE: slot 1 was written"
attack_row "serves another product's manifest, signed by the same release key, at this product's URL" \
    "the signed product: field must equal the device's product id"

attack "mix-and-match" "a signed manifest for another chip"
fresh_release
release_other $PRODUCT esp32s3 2.0.0
cp "$WORK/other-esp32s3/$PRODUCT/manifest.txt" "$WWW/$PRODUCT/manifest.txt"
cp "$WORK/other-esp32s3/$PRODUCT/firmware/"* "$WWW/$PRODUCT/firmware/"
sim_device "$URL"
expect_refused FOTA_ERR_WRONG_CHIP "manifest is for ESP32-S3 but this device is ESP32"
expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running, no slot was selected"
slot_blank 1 0 262144 && pass "$CASE: the update slot was never written" || fail "$CASE: slot 1 was written"
attack_row "serves the ESP32-S3 build of this product (same product id, same key) to ESP32 devices" \
    "the signed chip: field must equal the device's chip"

attack "mix-and-match" "another chip's image behind a valid manifest"
fresh_release
release "$FW2"
"$FOTA_BIN" mkimage --chip esp32s3 --project $PRODUCT --version 2.0.0 --size 262144 -o "$WORK/s3.bin" >/dev/null
cp "$WORK/s3.bin" "$WWW/$PRODUCT/firmware/$PRODUCT-2.0.0.bin"
sim_device "$URL" --attempts 1
expect_refused FOTA_ERR_IMAGE_CHIP "image is for ESP32-S3 but this device is ESP32: refused before flashing"
expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running, no slot was selected"
slot_blank 1 0 262144 && pass "$CASE: refused before anything was erased" || fail "$CASE: slot 1 was written"
attack_row "swaps the image file behind a valid ESP32 manifest for an ESP32-S3 build" \
    "the chip id in the image header, checked on the first 24 bytes before any erase (the SHA-256 would refuse it later anyway)"

attack "mix-and-match" "a manifest whose url points at another product's image"
fresh_release
release_other other-board esp32 2.0.0
mkdir -p "$WWW/other-board" && cp -r "$WORK/other-esp32/other-board/firmware" "$WWW/other-board/"
release "$FW2" --url "$SERVE_URL/other-board/firmware/other-board-2.0.0.bin"
sim_device "$URL" --attempts 1
expect_refused FOTA_ERR_IMAGE_HASH "SHA-256 mismatch after 262144 bytes"
expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running, no slot was selected"
expect_contains "$(cat "$SERVE_LOG")" "GET /other-board/firmware/other-board-2.0.0.bin 200 262144" \
    "$CASE: the device did fetch the other product's image (same size, same chip)"
attack_row "gets a manifest signed whose url: names another product's image of the same size and chip (same key: a slip in the release pipeline, or a mirror mapping the path)" \
    "the signed sha256: the image is hashed as it arrives and checked before the slot is selected"
attacks_finish

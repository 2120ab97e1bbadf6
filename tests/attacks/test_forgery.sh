#!/usr/bin/env bash
# Forged and tampered files: a manifest signed by a key the device does not
# trust, a foreign signature under the device's key id, one byte changed in a
# signed field of a valid manifest, and a tampered image behind a valid
# manifest. Each is refused with its own error; the running image stays.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/device.sh"
. "$(dirname "$0")/lib.sh"
require_tools curl
attacks_setup 6-forgery

attack "arbitrary software" "a manifest signed by another key"
fresh_release
"$FOTA_BIN" keygen -o "$WORK/attacker" >/dev/null
"$FOTA_BIN" release --key "$WORK/attacker.key" --product $PRODUCT --out "$WWW" "$FW2" >/dev/null
sim_device "$URL"
attacker_id=$(sed -n 's/^key-id: //p' "$WWW/$PRODUCT/manifest.txt")
expect_refused FOTA_ERR_UNKNOWN_KEY "manifest is signed by key $attacker_id, which this device does not trust"
expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running, no slot was selected"
slot_blank 1 0 262144 && pass "$CASE: the update slot was never written" || fail "$CASE: slot 1 was written"
attack_row "signs its own release with its own key" \
    "only keys compiled into the device are trusted (key-id selects among them)"

attack "arbitrary software" "a foreign signature under the device's key id"
our_id=$(grep -o '[0-9a-f]\{16\}' "$KEY.pub.h" | head -1)
sed -i "s/^key-id: .*/key-id: $our_id/" "$WWW/$PRODUCT/manifest.txt"
sim_device "$URL"
expect_refused FOTA_ERR_SIGNATURE "manifest signature invalid (key $our_id"
expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running, no slot was selected"
slot_blank 1 0 262144 && pass "$CASE: the update slot was never written" || fail "$CASE: slot 1 was written"
attack_row "signs with its own key but claims the device's key id" \
    "ECDSA P-256 verification with the trusted key"

attack "tampered metadata" "one byte changed in a signed field"
fresh_release
release "$FW2"
cp "$WWW/$PRODUCT/manifest.txt" "$WORK/good-manifest.txt"
for field in version-code security-counter sequence size sha256 url; do
    cp "$WORK/good-manifest.txt" "$WWW/$PRODUCT/manifest.txt"
    # change the last character of the value to another valid one
    sed -i -E "/^$field: /{s/0\$/1/;t;s/1\$/2/;t;s/[2-9]\$/0/;t;s/[a-f]\$/0/;t;s/n\$/m/}" \
        "$WWW/$PRODUCT/manifest.txt"
    changed=$(cmp -l "$WORK/good-manifest.txt" "$WWW/$PRODUCT/manifest.txt" | wc -l || true)
    expect_eq "$changed" 1 "$CASE: exactly one byte of the $field line changed"
    sim_device "$URL"
    expect_refused FOTA_ERR_SIGNATURE "manifest signature invalid"
    expect_not_activated 1.0.0 "$CASE ($field): 1.0.0 keeps running, no slot was selected"
done
slot_blank 1 0 262144 && pass "$CASE: the update slot was never written" || fail "$CASE: slot 1 was written"
attack_row "changes one byte of a signed field (version-code, security-counter, sequence, size, sha256, url; one test each)" \
    "the signature covers every byte before the signature line"

attack "tampered image" "one byte changed in the image"
fresh_release
release "$FW2"
printf '\x00' | dd of="$WWW/$PRODUCT/firmware/$PRODUCT-2.0.0.bin" bs=1 seek=100000 conv=notrunc status=none
sim_device "$URL" --attempts 2
expect_refused FOTA_ERR_IMAGE_HASH "SHA-256 mismatch after 262144 bytes"
expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running, no slot was selected"
attack_row "changes the image file on the server (or in transit), keeping its size" \
    "the signed sha256:, checked over the whole image before the slot is selected"
attacks_finish

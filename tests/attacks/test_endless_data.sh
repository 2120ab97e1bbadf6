#!/usr/bin/env bash
# Endless data: the server sends more than the signed size. The device takes
# no more than the signed size, whatever the framing: a Content-Length above
# the signed size is refused before the body; a Content-Length equal to it
# ends the body there (what follows is never image data); chunked and
# close-delimited bodies are counted and cut at the first extra byte. The
# extra bytes never reach flash.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/device.sh"
. "$(dirname "$0")/lib.sh"
require_tools curl
attacks_setup 4-endless-data

SIZE=262144
EXTRA=65536
fresh_release
ORIGIN_URL=$SERVE_URL
EVIL=$WORK/evil
mkdir -p "$EVIL/$PRODUCT/firmware"

# image_from URL: a manifest (served by the origin) whose image is at URL, a
# server of $EVIL, where the attacker keeps the signed image followed by
# 64 KiB of 'A'. A new device.
image_from() {
    route image "$1"
    cp "$WWW/$PRODUCT/firmware/$PRODUCT-2.0.0.bin" "$EVIL/$PRODUCT/firmware/"
    head -c $EXTRA /dev/zero | tr '\0' 'A' >>"$EVIL/$PRODUCT/firmware/$PRODUCT-2.0.0.bin"
    rm -rf "${WORK:?}/dev"
}

# nothing_past_signed: the 'A's never reached slot 1.
nothing_past_signed() {
    slot_blank 1 $SIZE $EXTRA && pass "$CASE: nothing past the signed $SIZE bytes reached flash" ||
        fail "$CASE: bytes past the signed size were written"
}

attack "endless data" "Content-Length above the signed size"
start_fota_serve "$EVIL"
image_from "$SERVE_URL"
sim_device "$DEVICE_URL" --attempts 2
expect_refused FOTA_ERR_HTTP_LENGTH "server sends $((SIZE + EXTRA)) bytes" "but the manifest signs $SIZE"
expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running, no slot was selected"
slot_blank 1 0 $((SIZE + EXTRA)) && pass "$CASE: refused before the first body byte" || fail "$CASE: slot 1 was written"
attack_row "announces and sends more bytes than the manifest signs (Content-Length)" \
    "Content-Length is compared with the signed size before the body is read"

attack "endless data" "Content-Length equal to the signed size, more bytes after it"
start_badserver long-body --arg $EXTRA --dir "$EVIL"
image_from "$BAD_URL"
sim_device "$DEVICE_URL" --attempts 1
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed" "$CASE: the signed image installs"
slot_holds 1 "$FW2" && pass "$CASE: slot 1 holds exactly the signed image" || fail "$CASE: slot 1 differs from the signed image"
nothing_past_signed
attack_row "announces the signed size but keeps sending after it" \
    "HTTP framing: the body ends at Content-Length; the rest is never taken as image data and the connection is closed"

for mode in chunked http10-close; do
    [ $mode = chunked ] && what="a chunked body longer than the signed size" ||
        what="a close-delimited body (HTTP/1.0, no length) longer than the signed size"
    attack "endless data" "$what"
    start_badserver $mode --dir "$EVIL"
    image_from "$BAD_URL"
    sim_device "$DEVICE_URL" --attempts 2
    # The body is cut at the first byte past the signed size; should a read end
    # exactly at the signed size, the device has exactly the signed image and
    # never sees the rest (then it installs the correct image).
    if grep -q '^result: updated' "$SIM_OUT"; then
        slot_holds 1 "$FW2" && pass "$CASE: a read ended exactly at the signed size: the signed image, nothing else" ||
            fail "$CASE: slot 1 differs from the signed image"
    else
        expect_refused FOTA_ERR_IMAGE_SIZE "server sent more than the $SIZE signed bytes" "refused"
        expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running, no slot was selected"
    fi
    nothing_past_signed
    attack_row "sends the signed image and keeps going, in a framing without a length up front" \
        "the agent counts body bytes against the signed size and refuses the read that goes past it"
done

attack "endless data" "a manifest body that never ends"
rm -rf "${WORK:?}/dev"
start_badserver endless --dir "$WWW"
sim_device "$BAD_URL/$PRODUCT/manifest.txt" --attempts 2
# The manifest itself comes from the endless server here: it must fit the
# manifest buffer, and does not.
expect_refused FOTA_ERR_MANIFEST_TOO_LARGE "larger than the 2080-byte buffer"
expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running, no slot was selected"
sent=$(sed -n 's/.*-> endless: 200 without length, \([0-9]*\) bytes sent (client closed)/\1/p' "$BAD_LOG" | head -1)
[ -n "$sent" ] && pass "$CASE: the device closed the connection (the server got $sent bytes out, not 64 MiB)" ||
    fail "$CASE: the device did not close the endless manifest"
attack_row "answers the manifest request with a body that never ends" \
    "the manifest buffer (2 KiB in the simulator): the first byte that does not fit ends the check"
attacks_finish

#!/usr/bin/env bash
# A release behind a GitHub-style link (issue 9, items 3 and the URL buffer):
# the manifest and the image URLs on host A answer 302 to a second host with a
# 2,000-character signed query string, and both hosts send 4 KB of headers the
# agent does not need (Content-Security-Policy, Set-Cookie, x-amz-*). Simulated
# devices with each port's DEFAULT buffer sizes (read from the port's Kconfig
# and Fota.h) update through it. Two nginx instances on loopback.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/compat.sh"
SRC=${FOTA_SRC:?}
dir=$(fota_tmpdir)
cd "$dir"
"$FOTA" keygen -o k >/dev/null
"$FOTA" mkimage --chip esp32 --version 1.0.0 --project p --size 65536 -o v1.bin >/dev/null
"$FOTA" mkimage --chip esp32 --version 1.1.0 --project p --size 65536 -o v2.bin >/dev/null

# the object store (host B): files under /objects/, any query string, long headers
mkdir -p store/objects
csp="default-src 'none'; $(printf 'img-src https://img%04d.example.net; ' $(seq 1 120))"
csp=${csp:0:4000}
cookies='add_header Set-Cookie "_gh_sess=SESSION'$(printf 'x%.0s' $(seq 1 300))'; path=/; secure; HttpOnly; SameSite=Lax" always;
    add_header Set-Cookie "_octo=GH1.1.123456789.1700000000; Path=/; Domain=example.com; Secure; SameSite=Lax" always;
    add_header x-amz-id-2 "'$(printf 'A%.0s' $(seq 1 200))'" always;
    add_header Content-Security-Policy "'$csp'" always;'
start_nginx "$dir/store" 127.0.0.2 "$cookies"
B_URL=$NGINX_URL B_DIR=$NGINX_DIR

# a 2,000-character signed query string, as S3 presigns it
sig() { # NAME: a query of exactly 2000 characters for object NAME
    local q="X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20240605%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240605T093000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&response-content-disposition=attachment%3B%20filename%3D$1&X-Amz-Security-Token="
    local pad=$((2000 - ${#q} - 80))
    q="$q$(head -c $((pad * 3)) /dev/zero | tr '\0' 'a' | head -c $pad)&X-Amz-Signature="
    printf '%s%s' "$q" "$(printf '%064x' 0 | tr 0 f)" | head -c 2000
}
# host A: the release page's links, each a 302 to host B
A_PORT=$(free_port)
A_URL=http://127.0.0.1:$A_PORT
"$FOTA" release --key k.key --product p --out rel v2.bin \
    --url "$A_URL/owner/repo/releases/download/v1.1.0/p-1.1.0.bin" >/dev/null
cp rel/p/manifest.txt store/objects/manifest.txt
cp rel/p/firmware/p-1.1.0.bin store/objects/p-1.1.0.bin
mq=$(sig manifest.txt) iq=$(sig p-1.1.0.bin)
loc_m="$B_URL/objects/manifest.txt?$mq" loc_i="$B_URL/objects/p-1.1.0.bin?$iq"
expect_eq "${#mq}" 2000 "the signed query is 2,000 characters"
note "redirect targets are ${#loc_m} and ${#loc_i} bytes"
[ ${#loc_i} -le 2048 ] && pass "the signed URL fits 2,048 bytes" || fail "signed URL is ${#loc_i} bytes"
mkdir -p pages
start_nginx "$dir/pages" 127.0.0.1 "$cookies
    location = /owner/repo/releases/download/v1.1.0/manifest.txt { return 302 \"$loc_m\"; }
    location = /owner/repo/releases/download/v1.1.0/p-1.1.0.bin { return 302 \"$loc_i\"; }"
A_URL=$NGINX_URL
# the release was signed with host A's port from free_port; nginx may have
# picked another one: re-release if so
if [ "$NGINX_PORT" != "$A_PORT" ]; then
    rm -rf rel
    "$FOTA" release --key k.key --product p --out rel v2.bin \
        --url "$A_URL/owner/repo/releases/download/v1.1.0/p-1.1.0.bin" >/dev/null
    cp rel/p/manifest.txt store/objects/manifest.txt
fi
hdr=$(curl -s -o /dev/null -D - "$B_URL/objects/p-1.1.0.bin?$iq" | wc -c)
[ "$hdr" -ge 4096 ] && pass "host B sends $hdr bytes of headers" || fail "only $hdr bytes of headers"
code=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$A_URL/owner/repo/releases/download/v1.1.0/p-1.1.0.bin")
expect_eq "$code" "302 $loc_i" "host A redirects to the signed URL"

# the ports' defaults, as their own files state them
kconf() { sed -n "/config $1\$/,/default/s/^ *default //p" "$SRC/Kconfig"; }
fotah() { sed -nE "s/^#define $1 ([0-9]+)\$/\\1/p" "$SRC/src/Fota.h" | head -1; }
idf="$(kconf FOTA_RX_BUFFER_SIZE),$(kconf FOTA_LINE_BUFFER_SIZE),$(kconf FOTA_URL_BUFFER_SIZE),$(kconf FOTA_MANIFEST_BUFFER_SIZE)"
ard_rest="$(fotah FOTA_LINE_BUFFER_SIZE),$(fotah FOTA_URL_BUFFER_SIZE),$(fotah FOTA_MANIFEST_BUFFER_SIZE)"
esp8266_rx=$(sed -nE '/ARDUINO_ARCH_ESP8266/,/#else/s/^#define FOTA_RX_BUFFER_SIZE ([0-9]+).*/\1/p' "$SRC/src/Fota.h")
esp32_rx=$(sed -nE '/#else/,/#endif/s/^#define FOTA_RX_BUFFER_SIZE ([0-9]+).*/\1/p' "$SRC/src/Fota.h" | head -1)
for port in "ESP-IDF:$idf" "Arduino ESP8266:$esp8266_rx,$ard_rest" "Arduino ESP32:$esp32_rx,$ard_rest"; do
    name=${port%%:*} sizes=${port#*:}
    rm -rf dev
    out=$(sim_device --url "$A_URL/owner/repo/releases/download/v1.1.0/manifest.txt" --key k.pub \
        --product p --factory v1.bin --dir dev --buffers "$sizes" --verbose 2>&1) || true
    expect_contains "$out" "result: updated 1.0.0 -> 1.1.0 and confirmed" "$name defaults ($sizes): updated through the redirects"
    # the log line is cut at FOTA_MSG_MAX; the signed query begins in it
    case $out in *"302 redirect to $B_URL/objects/p-1.1.0.bin?X-Amz-Algorithm=AWS4-HMAC-SHA256"*)
        pass "$name: followed the signed URL" ;;
        *) fail "$name: no redirect to the signed URL in the log" ;; esac
done
grep -q "GET /objects/p-1.1.0.bin?X-Amz-Algorithm" "$B_DIR/access.log" && pass "the image came from host B with its query" || fail "host B never served the image"
finish

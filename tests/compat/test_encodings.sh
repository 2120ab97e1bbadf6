#!/usr/bin/env bash
# Compressing servers (issue 9, item 4): the agent asks for
# Accept-Encoding: identity, so nginx with gzip on serves the plain bytes and
# the update works; a server that compresses anyway (nginx gzip_static
# always) is refused with an error naming Content-Encoding and the URL,
# not a length or hash mismatch.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/compat.sh"
require_tools gzip curl
dir=$(fota_tmpdir)
cd "$dir"
"$FOTA" keygen -o k >/dev/null
"$FOTA" mkimage --chip esp32 --version 1.0.0 --project p --size 65536 -o v1.bin >/dev/null
"$FOTA" mkimage --chip esp32 --version 1.1.0 --project p --size 65536 -o v2.bin >/dev/null
"$FOTA" release --key k.key --product p --out rel v2.bin >/dev/null
cp -r rel gz
gzip -k gz/p/manifest.txt                        # a precompressed manifest
mkdir -p img && cp -r rel/p img/ && gzip -k img/p/firmware/p-1.1.0.bin   # ... or image

# nginx compressing everything it may: the agent's identity keeps it plain
start_nginx "$dir/rel" 127.0.0.1 'gzip on; gzip_types *; gzip_min_length 1; gzip_proxied any; gzip_vary on;
    location /gz/ { alias '"$dir"'/gz/; gzip_static always; }
    location /img/ { alias '"$dir"'/img/; gzip_static always; }'
ce=$(curl -s -o /dev/null -D - -H 'Accept-Encoding: gzip' "$NGINX_URL/p/firmware/p-1.1.0.bin" | tr -d '\r' | sed -n 's/^Content-Encoding: //Ip')
expect_eq "$ce" gzip "nginx compresses for a client that allows it"
ce=$(curl -s -o /dev/null -D - "$NGINX_URL/gz/p/manifest.txt" | tr -d '\r' | sed -n 's/^Content-Encoding: //Ip')
expect_eq "$ce" gzip "gzip_static always compresses whatever the request says"
out=$(sim_device --url "$NGINX_URL/p/manifest.txt" --key k.pub --product p --factory v1.bin --dir dev 2>&1) || true
expect_contains "$out" "result: updated 1.0.0 -> 1.1.0 and confirmed" "gzip on: the device gets identity and updates"
grep -q '"GET /p/firmware/p-1.1.0.bin' "$NGINX_DIR/access.log" && pass "image fetched from nginx" || fail "no image GET in nginx log"

# a server that compresses anyway: refused by name
rm -rf dev
out=$(sim_device --url "$NGINX_URL/gz/p/manifest.txt" --key k.pub --product p --factory v1.bin --dir dev 2>&1) || true
expect_contains "$out" "FOTA_ERR_HTTP_ENCODING: server compressed the manifest (Content-Encoding: gzip) at $NGINX_URL/gz/p/manifest.txt" "compressed manifest: Content-Encoding and URL named"
rm -rf dev
out=$(sim_device --url "$NGINX_URL/img/p/manifest.txt" --key k.pub --product p --factory v1.bin --dir dev 2>&1) || true
expect_contains "$out" "FOTA_ERR_HTTP_ENCODING: server compressed the image (Content-Encoding: gzip) at $NGINX_URL/img/p/firmware/p-1.1.0.bin" "compressed image: Content-Encoding and URL named"
case $out in *FOTA_ERR_HTTP_LENGTH*|*FOTA_ERR_IMAGE_HASH*) fail "reported as a length or hash error" ;; *) pass "not a length or hash error" ;; esac
out=$(sim_device --url "$NGINX_URL/p/manifest.txt" --key k.pub --product p --dir dev 2>&1) || true
expect_contains "$out" "result: updated 1.0.0 -> 1.1.0" "the same device updates from a plain location"

# fota serve never compresses
start_fota_serve "$dir/rel"
ce=$(curl -s -o /dev/null -D - -H 'Accept-Encoding: gzip' "$SERVE_URL/p/manifest.txt" | tr -d '\r' | sed -n 's/^Content-Encoding: //Ip')
expect_eq "$ce" "" "fota serve sends no Content-Encoding"
finish

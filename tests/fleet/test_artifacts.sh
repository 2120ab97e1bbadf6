#!/usr/bin/env bash
# Artifacts elsewhere: the fleet server answers check-ins only and sends
# the devices to another host for the images (--artifacts: an nginx standing
# in for a CDN or S3). The signed manifest names each image's SHA-256, so an
# artifact host that alters an image gets it refused, never installed.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/fleet.sh"
require_tools curl

fleet_releases 1.0.0 2.0.0 3.0.0
CDN=$WORK/cdn
mkdir -p "$CDN"
cp -r "$WWW/." "$CDN/"
rm -rf "$WWW/$PRODUCT/firmware" # the fleet server has no image to serve
start_nginx "$CDN" || finish
start_fleet --artifacts "$NGINX_URL/" || finish
for v in 1.0.0 2.0.0 3.0.0; do fleet releases add "$WORK/manifest-$v.txt" >/dev/null; done
sim() { fleet_sim --devices 20 --id-prefix c- --state "$WORK/state" "$@"; }
sim >/dev/null

code=$(curl -gs -o /dev/null -w '%{http_code} %{redirect_url}' "$SERVE_URL/$PRODUCT/firmware/$PRODUCT-2.0.0.bin")
expect_eq "$code" "302 $NGINX_URL/$PRODUCT/firmware/$PRODUCT-2.0.0.bin" \
    "an image request to the fleet server is redirected to the artifact server, same path"

fleet rollouts create --release 2 --waves 100% >/dev/null
out=$(sim --rounds 2)
printf '%s\n' "$out" | sed 's/^/    /'
expect_contains "$(printf '%s\n' "$out" | tail -n 1)" "running 2.0.0=20" "every device updated to 2.0.0"
fetched=$(grep -c "GET /$PRODUCT/firmware/$PRODUCT-2.0.0.bin HTTP/1.1\" 200" "$NGINX_DIR/access.log" || true)
expect_eq "$fetched" 20 "each of the 20 fetched the image from the artifact server"

# The artifact host alters 3.0.0 (same size, one byte): the devices refuse it.
python3 - "$CDN/$PRODUCT/firmware/$PRODUCT-3.0.0.bin" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0xFF
open(p, "wb").write(bytes(b))
PY
fleet rollouts create --release 3 --waves 100% --failure 50 --min-sample 5 >/dev/null
out=$(sim --rounds 2)
printf '%s\n' "$out" | sed 's/^/    /'
expect_contains "$(printf '%s\n' "$out" | tail -n 1)" "running 2.0.0=20" "no device installed the altered image"
bad=$(fleet --json devices | grep -c '"error_name": "FOTA_ERR_IMAGE_HASH"' || true)
expect_eq "$bad" 20 "each device reported FOTA_ERR_IMAGE_HASH to the fleet server"
expect_contains "$(fleet rollouts show 2)" "paused by itself" "and the rollout of the altered release paused itself"
finish

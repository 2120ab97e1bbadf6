#!/usr/bin/env bash
# Redirect chains across hosts (127.0.0.1 -> localhost -> 127.0.0.2) for the
# manifest and the image, and a redirect loop that ends with its own error.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/device.sh"
require_tools curl nginx

prepare_release
mkdir -p "$WORK/empty"
start_fota_serve "$WWW" --bind 127.0.0.2
origin=http://127.0.0.2:$SERVE_PORT
start_nginx "$WORK/empty" 127.0.0.1 "
    location /hop1/ { return 301 http://localhost:\$server_port/hop2/; }
    location /hop2/ { return 307 $origin/$PRODUCT/manifest.txt; }
    location /img1/ { return 302 http://localhost:\$server_port/img2/; }
    location /img2/ { return 308 $origin/$PRODUCT/firmware/$PRODUCT-2.0.0.bin; }
    location /loop { return 302 /loop; }
    location /noloc { return 302; }"
nginx_origin=$NGINX_URL

release "$FW2" --url "$nginx_origin/img1/"
sim_device "$nginx_origin/hop1/manifest.txt" --verbose
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed" "update through a 301/307 manifest chain and a 302/308 image chain"
expect_contains "$(cat "$SIM_OUT")" "301 redirect to http://localhost:" "manifest: 301 to another host name"
expect_contains "$(cat "$SIM_OUT")" "307 redirect to http://127.0.0.2:" "manifest: 307 to a third host"
expect_contains "$(cat "$SIM_OUT")" "308 redirect to http://127.0.0.2:" "image: 308 to the origin"

sim_device "$nginx_origin/loop" --attempts 1
expect_sim 1 "FOTA_ERR_HTTP_REDIRECTS" "a redirect loop ends with FOTA_ERR_HTTP_REDIRECTS"
expect_contains "$(cat "$SIM_OUT")" "more than 5 redirects" "the loop error names the limit"
finish

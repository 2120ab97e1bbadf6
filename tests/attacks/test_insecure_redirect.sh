#!/usr/bin/env bash
# Downgrade by redirect (issue 15, finding 5): the device is configured with
# an https:// manifest URL; the server (or whoever controls it) redirects to
# http://. Signatures would still hold, but the firmware, the MAC in the URL
# and the ability to block the update would travel in the clear although the
# user asked for TLS. Refused by default; allow_insecure_redirect
# (fota sim --allow-insecure-redirect) follows it for those who decide so.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/device.sh"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tls/tls_lib.sh"
require_tools curl nginx openssl
attacks_setup 7-insecure-redirect

attack "downgrade" "an https:// manifest URL redirected to http://"
fresh_release                                   # fota serve, plain HTTP: $SERVE_URL
release "$FW2"
make_pki "$WORK/pki"
port=$(free_port)
mkdir -p "$WORK/pki/nginx-tmp"
cat >"$WORK/pki/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $WORK/pki/nginx.pid;
error_log $WORK/pki/nginx-error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $WORK/pki/nginx-tmp;
  proxy_temp_path $WORK/pki/nginx-tmp;
  fastcgi_temp_path $WORK/pki/nginx-tmp;
  uwsgi_temp_path $WORK/pki/nginx-tmp;
  scgi_temp_path $WORK/pki/nginx-tmp;
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $WORK/pki/valid.pem;
    ssl_certificate_key $WORK/pki/valid.key;
    location / { return 302 $SERVE_URL\$request_uri; }
  }
}
CONF
nginx -p "$WORK/pki" -c "$WORK/pki/nginx.conf" -e "$WORK/pki/nginx-error.log" &
lib_track $!
wait_http "https://localhost:$port/" || true
HTTPS_URL=https://localhost:$port/$PRODUCT/manifest.txt
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/pki/ca.pem" "$HTTPS_URL" || true)
expect_eq "$code" 302 "$CASE: the https server redirects (control)"

sim_device "$HTTPS_URL" --ca "$WORK/pki/ca.pem" --attempts 3
expect_refused FOTA_ERR_INSECURE_REDIRECT "302 redirect from https://localhost:PORT/$PRODUCT/manifest.txt to http://127.0.0.1:PORT/$PRODUCT/manifest.txt, which is not HTTPS: refused"
expect_eq "$(grep -cE 'retry [0-9]+ of' "$SIM_OUT" || true)" 0 "$CASE: final, not retried"
expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running, no slot was selected"
slot_blank 1 0 262144 && pass "$CASE: the update slot was never written" || fail "$CASE: slot 1 was written"
attack_row "redirects the device's https:// manifest URL to http://, so the image, the device's MAC and the chance to block the update travel in the clear" \
    "a redirect from https:// to http:// is refused unless the configuration allows it (allow_insecure_redirect)"

# Control: a device configured to allow it follows the redirect and updates.
rm -rf "${WORK:?}/dev"
sim_device "$HTTPS_URL" --ca "$WORK/pki/ca.pem" --allow-insecure-redirect
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed" \
    "control: with allow_insecure_redirect the device follows it and updates"
attacks_finish

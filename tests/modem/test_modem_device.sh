#!/usr/bin/env bash
# The simulated device updates over the simulated SIM800 from fota serve:
# plainly, resuming after the PDP context drops mid-image, falling back from
# a dead WiFi to GSM, and over HTTPS on the GSM link.
. "$FOTA_SRC/tests/e2e/lib.sh"
. "$FOTA_SRC/tests/e2e/device.sh"
. "$FOTA_SRC/tests/tls/tls_lib.sh"
require_tools curl

SIM_N=0
start_modem() { # sim800sim options...: sets TTY
  SIM_N=$((SIM_N + 1))
  TTY=$FOTA_TEST_TMP/modem$SIM_N.tty
  start_bg "sim800sim.$SIM_N" "$SIM800SIM" --link "$TTY" --verbose "$@"
  wait_line "$FOTA_TEST_TMP/sim800sim.$SIM_N.out" '^pty ' "$BG_PID" >/dev/null ||
    fail "sim800sim did not start"
  MODEM_LOG=$FOTA_TEST_TMP/sim800sim.$SIM_N.err
}

# 1. Update over GSM only.
prepare_release 262144
start_fota_serve "$WWW"
url=$SERVE_URL/$PRODUCT/manifest.txt
start_modem
sim_device "$url" --modem "$TTY" --no-wifi
expect_sim 0 "result: up to date, running 1.0.0" "gsm: factory 1.0.0 is up to date"
release "$FW2"
sim_device "$url" --modem "$TTY" --no-wifi
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed (via gsm)" "gsm: updates 1.0.0 -> 2.0.0"
expect_contains "$(cat "$MODEM_LOG")" "AT+CIPSTART=\"TCP\",\"127.0.0.1\",$SERVE_PORT" "the image came through the modem"

# 2. The PDP context drops after 100000 bytes of the first connection that
# carries them (the manifest connection is small): the agent resumes.
prepare_release 262144
start_fota_serve "$WWW"
url=$SERVE_URL/$PRODUCT/manifest.txt
sim_device "$url" --modem "$TTY" --no-wifi
release "$FW2"
start_modem --fault pdp-drop=100000 --times 2
sim_device "$url" --modem "$TTY" --no-wifi --attempts 5
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed (via gsm)" "gsm: update completes after the PDP context dropped"
expect_contains "$(cat "$MODEM_LOG")" "+PDP: DEACT" "the context did drop"
expect_contains "$(cat "$SIM_OUT")" "GPRS context dropped (+PDP: DEACT)" "the device reports the drop"
if grep -qE 'demo-2\.0\.0\.bin 206 [0-9]+ range="bytes=[1-9][0-9]*-"' "$SERVE_LOG"; then
  pass "the image download resumed with a Range request from the offset reached"
else
  fail "no resumed (206, bytes=N-) image request in the server log: $(tail -5 "$SERVE_LOG")"
fi

# 3. Fallback: [wifi (down), gsm] -> the update goes over gsm.
prepare_release 65536
start_fota_serve "$WWW"
url=$SERVE_URL/$PRODUCT/manifest.txt
start_modem
sim_device "$url" --modem "$TTY" --wifi-down
release "$FW2"
sim_device "$url" --modem "$TTY" --wifi-down
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed (via gsm)" "wifi down: falls back to gsm and reports it"

# ...and with a working wifi the same list stays on wifi.
prepare_release 65536
start_fota_serve "$WWW"
url=$SERVE_URL/$PRODUCT/manifest.txt
sim_device "$url" --modem "$TTY"
release "$FW2"
sim_device "$url" --modem "$TTY"
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed (via wifi)" "wifi up: the first transport is used"

# 4. HTTPS over GSM.
prepare_release 65536
make_pki "$WORK/pki"
P_TLS=$(free_port)
start_tls_nginx "$WORK/pki" "$WWW" valid:$P_TLS
lib_track "$NGINX_PID"
url=https://localhost:$P_TLS/$PRODUCT/manifest.txt
sim_device "$url" --modem "$TTY" --no-wifi --ca "$WORK/pki/ca.pem"
release "$FW2"
sim_device "$url" --modem "$TTY" --no-wifi --ca "$WORK/pki/ca.pem"
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed (via gsm)" "https over gsm: updates"
finish

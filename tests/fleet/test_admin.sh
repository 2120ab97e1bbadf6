#!/usr/bin/env bash
# The admin API refuses requests without a token, with a wrong one, and is
# not reachable through the device listener; tokens are stored hashed.
# Malformed and hostile check-in headers get a clear 400 and store nothing;
# the server keeps answering. The stock Arduino updater's check-ins appear
# in the fleet view. CLI errors are clear.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/fleet.sh"
require_tools curl sqlite3

fleet_releases 1.0.0 2.0.0
start_fleet
expect_contains "$(cat "$FOTA_TEST_TMP/serve.$LIB_SERVE_COUNT.out")" "admin API on http://127.0.0.1:" \
    "the admin API listens on loopback by default"
api=$ADMIN_URL/api/v1/devices
expect_eq "$(http_code "$api")" 401 "no token: 401"
expect_eq "$(http_code "$api" -H "Authorization: Bearer fota_0000")" 401 "wrong token: 401"
expect_eq "$(http_code "$api" -H "Authorization: Bearer ${TOKEN}x")" 401 "token with one more character: 401"
expect_eq "$(http_code "$api" -H "Authorization: Basic $TOKEN")" 401 "not a bearer token: 401"
expect_eq "$(http_code "$api" -H "Authorization: Bearer $TOKEN")" 200 "the right token: 200"
expect_eq "$(http_code "$SERVE_URL/api/v1/devices" -H "Authorization: Bearer $TOKEN")" 404 \
    "the device listener does not serve the admin API"
expect_eq "$(http_code "$ADMIN_URL/api/v1/devices" -X DELETE -H "Authorization: Bearer $TOKEN")" 405 \
    "methods other than GET and POST: 405"
stored=$(sqlite3 "$WORK/fleet.db" "SELECT lower(hex(hash)) FROM tokens")
expect_eq "$stored" "$(printf '%s' "$TOKEN" | sha256sum | cut -c1-64)" "the token is stored as its SHA-256"
if grep -qa -- "$TOKEN" "$WORK"/fleet.db*; then fail "the token itself is in the database"; else pass "the token itself is not in the database files"; fi

out=$("$FOTA_BIN" fleet --server "$ADMIN_URL" devices 2>&1) && rc=0 || rc=$?
expect_eq "$rc" 2 "CLI without a token: exit 2"
expect_contains "$out" "no admin token" "and says so"
out=$("$FOTA_BIN" fleet --server "$ADMIN_URL" --token nope devices 2>&1) && rc=0 || rc=$?
expect_eq "$rc" 1 "CLI with a wrong token: exit 1"
expect_contains "$out" "401: token not accepted" "and shows the server's reason"
out=$(fleet rollouts create --release 9 2>&1) && rc=0 || rc=$?
expect_contains "$out" "404: no release 9" "a rollout of an unknown release: clear error"
echo "fota-manifest: 1" >"$WORK/bad.txt"
out=$(fleet releases add "$WORK/bad.txt" 2>&1) && rc=0 || rc=$?
expect_contains "$out" "not a fota manifest" "a malformed manifest is refused"
sed 's/^signature: ./signature: 0/' "$WORK/manifest-2.0.0.txt" >"$WORK/forged.txt"
out=$(fleet releases add "$WORK/forged.txt" 2>&1) && rc=0 || rc=$?
expect_contains "$out" "does not verify with the server's --fleet-key" "a manifest with a wrong signature is refused"
out=$(fleet releases add "$WORK/manifest-2.0.0.txt" 2>&1)
expect_contains "$out" "release 1: demo 2.0.0" "a signed manifest is accepted"
out=$(fleet releases add "$WORK/manifest-2.0.0.txt" 2>&1) && rc=0 || rc=$?
expect_contains "$out" "already has a release with sequence 2" "the same sequence twice is refused"
out=$(fleet rollouts create --release 1 --waves 10%,5% 2>&1) && rc=0 || rc=$?
expect_contains "$out" "waves are cumulative" "shrinking waves: clear error"

# Hostile check-ins: each a clear 400, nothing stored.
long=$(head -c 200 /dev/zero | tr '\0' a)
huge=$(head -c 20000 /dev/zero | tr '\0' a)
hex63=$(head -c 63 /dev/zero | tr '\0' a)
bad() { # bad DESCRIPTION CURL-HEADER-ARGS...
    local what=$1 code
    shift
    code=$(curl -gs -o "$WORK/body" -w '%{http_code}' --max-time 10 "$@" "$CHECKIN_URL" || true)
    case $code in
    400 | 431) pass "$what: $code $(head -c 120 "$WORK/body" | tr -d '\n')" ;;
    *) fail "$what: got $code" ;;
    esac
}
good=(-H "Fota-Product: demo" -H "Fota-Version: 1000000")
bad "no Fota-Id" "${good[@]}"
bad "Fota-Id of 200 characters" -H "Fota-Id: $long" "${good[@]}"
bad "Fota-Id of 20000 characters" -H "Fota-Id: $huge" "${good[@]}"
bad "Fota-Id with SQL" -H "Fota-Id: x';DROP TABLE devices;--" "${good[@]}"
bad "Fota-Id with a space" -H "Fota-Id: a b" "${good[@]}"
bad "Fota-Id twice" -H "Fota-Id: h-1" -H "Fota-Id: h-2" "${good[@]}"
bad "Fota-Product with markup" -H "Fota-Id: h-3" -H "Fota-Product: <script>" -H "Fota-Version: 1"
bad "Fota-Version not a number" -H "Fota-Id: h-4" -H "Fota-Product: demo" -H "Fota-Version: 12abc"
bad "Fota-Version negative" -H "Fota-Id: h-5" -H "Fota-Product: demo" -H "Fota-Version: -1"
bad "Fota-Version overflow" -H "Fota-Id: h-6" -H "Fota-Product: demo" -H "Fota-Version: 4294967296"
bad "Fota-Image of 63 hex digits" -H "Fota-Id: h-7" "${good[@]}" -H "Fota-Image: $hex63"
bad "Fota-Image not hex" -H "Fota-Id: h-8" "${good[@]}" -H "Fota-Image: ${hex63}g"
bad "Fota-Last with an unknown event" -H "Fota-Id: h-9" "${good[@]}" -H "Fota-Last: pwned 0 0"
bad "Fota-Last with extra fields" -H "Fota-Id: h-10" "${good[@]}" -H "Fota-Last: failed -1 2 3"
bad "Fota-Sequence twice" -H "Fota-Id: h-11" "${good[@]}" -H "Fota-Sequence: 1" -H "Fota-Sequence: 9"
raw=$(http_raw "$SERVE_PORT" $'GET /demo/manifest.txt HTTP/1.1\r\nHost: x\r\nFota-Id: h-12\x01\r\nFota-Product: demo\r\nFota-Version: 1\r\nConnection: close\r\n\r\n' || true)
expect_contains "$(printf '%s' "$raw" | head -1)" "HTTP/1.1 400" "a control character in a header: 400"
stored=$(fleet --json devices | grep -c '"id":' || true)
expect_eq "$stored" 0 "none of the hostile check-ins stored a device"
expect_eq "$(checkin ok-1 1000000 "Fota-Image: $(sha256sum "$WORK/fw-1.0.0.bin" | cut -c1-64)" "Fota-Last: rolled-back 0 2000000")" \
    "304 no rollout for this device" "the server still answers a good check-in"
dev=$(fleet devices show ok-1)
expect_contains "$dev" "last       rolled-back 2000000" "and records its outcome"
kill -0 "$SERVE_PID" && pass "the server is still running" || fail "the server died"

# The stock Arduino updater's check-in is in the same fleet view.
curl -gs -o /dev/null -H "User-Agent: ESP8266-http-Update" -H "x-ESP8266-STA-MAC: 18:FE:34:A1:B2:C3" \
    -H "x-ESP8266-version: 1.2.3" -H "x-ESP8266-mode: sketch" "$SERVE_URL/demo/firmware.bin" || true
dev=$(fleet devices show 18FE34A1B2C3 2>&1)
expect_contains "$dev" "protocol   esp8266-http-update" "a stock ESP8266 updater appears in the fleet view"
expect_contains "$dev" "version    1002003 1.2.3" "with its version"
finish

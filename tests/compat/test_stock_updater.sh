#!/usr/bin/env bash
# The fleet in the field (issue 9, item 7): devices running the stock Arduino
# updater (ESP8266httpUpdate / arduino-esp32 HTTPUpdate), emulated byte for
# byte by stock_client.py, are served by fota serve: 304 when they run the
# release meant for them, 200 with Content-Length and x-MD5 otherwise,
# x-version in mode "version", HTTP/1.0 without chunking, per MAC and per
# group. Then the migration: a stock device is served a fota-enabled build,
# boots it (the simulator), and from then on updates through signed manifests.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/compat.sh"
require_tools python3
STOCK="python3 $(dirname "$0")/stock_client.py"
dir=$(fota_tmpdir)
cd "$dir"
"$FOTA" keygen -o k >/dev/null
MAC_A=24:0A:C4:12:34:56 A=240AC4123456
MAC_B=24:0A:C4:AB:CD:EF B=240AC4ABCDEF
MAC_C=5C:CF:7F:00:00:01 C=5CCF7F000001

# ---- ESP32: a stock device moves to fota -------------------------------------------
"$FOTA" mkimage --chip esp32 --version 2019081901 --project door --size 65536 -o old.bin >/dev/null
"$FOTA" mkimage --chip esp32 --version 2024061501 --project door --size 98304 -o door-fota.bin >/dev/null
out=$("$FOTA" release --key k.key --product door --legacy --device "$MAC_A" --out rel door-fota.bin)
expect_contains "$out" "legacy:           rel/door/legacy/$A.bin and .version (2024061501)" "release --legacy writes the device's pair"
expect_eq "$(cat rel/door/legacy/$A.version)" 2024061501 "$A.version holds the version code"
expect_file_eq rel/door/legacy/$A.bin door-fota.bin "$A.bin is the image"
[ -f rel/door/$A/manifest.txt ] && pass "per-device signed manifest written" || fail "no rel/door/$A/manifest.txt"
expect_contains "$(cat rel/door/$A/manifest.txt)" "url: ../firmware/door-2024061501.bin" "device manifest points at the image"

start_fota_serve "$dir/rel"
url=$SERVE_URL/door/legacy/$A.bin
out=$($STOCK --family esp32 --url "$url" --mac "$MAC_A" --running old.bin --version 2019081901 \
    --out new.bin --dump-request req32.txt) || true
expect_contains "$out" "status: HTTP/1.0 200 OK" "stock ESP32: 200 in HTTP/1.0"
expect_contains "$out" "x-md5: $(md5sum door-fota.bin | cut -c1-32)" "stock ESP32: x-MD5 of the image"
expect_contains "$out" "content-length: 98304" "stock ESP32: Content-Length"
expect_contains "$out" "HTTP_UPDATE_OK: 98304 bytes" "stock ESP32: flashed"
expect_file_eq new.bin door-fota.bin "stock ESP32 received the fota-enabled build"
expect_contains "$(head -c 200 req32.txt | tr -d '\r')" "GET /door/legacy/$A.bin HTTP/1.0
Host: 127.0.0.1:$SERVE_PORT
User-Agent: ESP32-http-Update
Connection: close
Cache-Control: no-cache
x-ESP32-STA-MAC: $MAC_A" "the emulated request starts as HTTPClient::sendHeader writes it"
# it runs it now: the same check is answered 304, by MD5/SHA-256 and by version
out=$($STOCK --family esp32 --url "$url" --mac "$MAC_A" --running new.bin --version 2019081901) && rc=0 || rc=$?
expect_eq "$rc" 3 "stock ESP32 running the release: no update"
expect_contains "$out" "status: HTTP/1.0 304" "304 by sketch hash"
out=$($STOCK --family esp32 --url "$url" --mac "$MAC_A" --running old.bin --version 2024061501) && rc=0 || rc=$?
expect_eq "$rc" 3 "304 by the version header"
grep -q "runs $A.bin already (same sketch" "$SERVE_LOG" && pass "log: same sketch" || fail "log lacks 'same sketch'"

# boots it: the fota-enabled build runs the agent, asks its own signed manifest
out=$(sim_device --url "$SERVE_URL/door/{mac}/manifest.txt" --mac $A --key k.pub --product door \
    --factory new.bin --dir dev 2>&1) || true
expect_contains "$out" "result: up to date, running 2024061501" "the migrated device is up to date"
# and from then on updates through signed manifests
"$FOTA" mkimage --chip esp32 --version 2024070101 --project door --size 98304 -o door-2.bin >/dev/null
"$FOTA" release --key k.key --product door --device "$MAC_A" --out rel door-2.bin >/dev/null
out=$(sim_device --url "$SERVE_URL/door/{mac}/manifest.txt" --mac $A --key k.pub --product door \
    --dir dev 2>&1) || true
expect_contains "$out" "result: updated 2024061501 -> 2024070101 and confirmed" "then updates through a signed manifest"
# a forged image on the old path no longer reaches it: the agent asks for manifests only
printf 'not firmware' >rel/door/legacy/$A.bin
out=$(sim_device --url "$SERVE_URL/door/{mac}/manifest.txt" --mac $A --key k.pub --product door \
    --dir dev 2>&1) || true
expect_contains "$out" "result: up to date, running 2024070101" "the legacy path is out of the loop"

# ---- ESP8266: per MAC, per group, default, mode=version, plain GETs ---------------
"$FOTA" mkimage --chip esp8266 --version 2019081901 --project plug --size 65536 -o p-old.bin >/dev/null
"$FOTA" mkimage --chip esp8266 --version 2024061501 --project plug --size 69632 -o p-beta.bin >/dev/null
"$FOTA" mkimage --chip esp8266 --version 2024061401 --project plug --size 69632 -o p-all.bin >/dev/null
"$FOTA" release --key k.key --product plug --version 2024061401 --legacy --out rel p-all.bin >/dev/null
out=$("$FOTA" release --key k.key --product plug --version 2024061501 --legacy --group beta \
    --device "$MAC_A" --device "$MAC_B" --out rel p-beta.bin)
expect_contains "$out" "legacy group:     rel/plug/legacy/groups/beta.macs (2 devices)" "group written"
expect_eq "$(cat rel/plug/legacy/groups/beta.macs | tr '\n' ' ')" "$A $B " "members listed"
expect_eq "$(cat rel/plug/legacy/$A.group)" beta "member points at its group"

base=$SERVE_URL/plug/legacy
out=$($STOCK --family esp8266 --mode version --url "$base/$A.bin" --mac "$MAC_A" --running p-old.bin) || true
expect_contains "$out" "HTTP_UPDATE_OK: server version 2024061501" "mode=version: x-version of the group's release"
out=$($STOCK --family esp8266 --url "$base/$A.bin" --mac "$MAC_A" --running p-old.bin --version 2019081901 \
    --out a.bin --dump-request req8266.txt) || true
expect_contains "$out" "HTTP_UPDATE_OK: 69632 bytes" "group member flashed"
expect_file_eq a.bin p-beta.bin "group member got the group's image"
out=$($STOCK --family esp8266 --url "$base/$A.bin" --mac "$MAC_A" --running p-beta.bin --version 2019081901) && rc=0 || rc=$?
expect_eq "$rc" 3 "group member running it: 304 by MD5"
out=$($STOCK --family esp8266 --url "$base/$C.bin" --mac "$MAC_C" --running p-old.bin --version 2019081901 \
    --out c.bin) || true
expect_file_eq c.bin p-all.bin "a device outside the group gets the default release"
out=$($STOCK --family esp8266 --url "$base/update.bin" --mac "$MAC_B" --running p-old.bin --out b.bin) || true
expect_file_eq b.bin p-beta.bin "one URL for all: selection by the MAC header"
expected="GET /plug/legacy/$A.bin HTTP/1.0
Host: 127.0.0.1:$SERVE_PORT
User-Agent: ESP8266-http-Update
Connection: close
x-ESP8266-Chip-ID: 10680431
x-ESP8266-STA-MAC: $MAC_A
x-ESP8266-AP-MAC: 26:0A:C4:12:34:56
x-ESP8266-free-space: 1044480
x-ESP8266-sketch-size: 65536
x-ESP8266-sketch-md5: $(md5sum p-old.bin | cut -c1-32)
x-ESP8266-chip-size: 4194304
x-ESP8266-sdk-version: 2.2.2-dev(38a443e)
x-ESP8266-mode: sketch
x-ESP8266-version: 2019081901"
expect_eq "$(tr -d '\r' <req8266.txt)" "$expected" "ESP8266httpUpdate request, header by header"
expect_eq "$(grep -c $'\r$' req8266.txt)" 15 "every line ends in CRLF"
expect_eq "$(tail -c 4 req8266.txt | od -An -tx1 | tr -d ' \n')" 0d0a0d0a "an empty line ends it"
# the seed sketch's own plain GET of <MAC>.version
expect_eq "$(curl -s "$base/$A.version")" 2024061501 "plain GET $A.version: the group's"
expect_eq "$(curl -s "$base/$C.version")" 2024061401 "plain GET $C.version: the default"
# malformed stock headers are refused, not stored or followed
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'x-ESP8266-STA-MAC: 24:0A:C4:12:34' "$base/$A.bin")
expect_eq "$code" 400 "malformed MAC header: 400"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "x-ESP8266-STA-MAC: $MAC_A" -H 'x-ESP8266-sketch-md5: zz' "$base/$A.bin")
expect_eq "$code" 400 "malformed sketch-md5: 400"

# ---- the same layout on nginx: a static server still works (no 304, no groups) -----
start_nginx "$dir/rel"
out=$($STOCK --family esp32 --url "$NGINX_URL/door/legacy/$A.version" --mac "$MAC_A" --running old.bin) || true
out=$($STOCK --family esp8266 --url "$NGINX_URL/plug/legacy/default.bin" --mac "$MAC_C" --running p-old.bin \
    --out n.bin) || true
expect_contains "$out" "HTTP_UPDATE_OK: 69632 bytes" "nginx serves the legacy layout to the stock client"
expect_file_eq n.bin p-all.bin "nginx: the default image"
finish

#!/usr/bin/env bash
# A device never re-installs what it runs (issue 9, item 2): ESP-IDF builds
# whose version is git describe output, and an Arduino sketch whose version
# the device cannot read, update once and then stay up to date, because the
# agent compares the running image's SHA-256 with the manifest's; and
# fota release never guesses a version code from such a version.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/compat.sh"
require_tools python3
dir=$(fota_tmpdir)
cd "$dir"
"$FOTA" keygen -o k >/dev/null
image_gets() { grep -c "GET /$1/firmware/" "$SERVE_LOG" || true; }

# ---- fota release: codes are stated, never guessed ------------------------------------
"$FOTA" mkimage --chip esp32 --version v5.0-3-g1f2e3d --project blink --size 16384 \
    --build-time 2024-06-01T08:00:00Z -o old.bin >/dev/null
"$FOTA" mkimage --chip esp32 --version v5.0-4-g4532e6 --project blink --size 16384 \
    --build-time 2024-06-05T09:30:00Z -o new.bin >/dev/null
out=$("$FOTA" release --key k.key --product blink --out rel new.bin 2>&1)
expect_contains "$out" "version code:     1717579800 (the build time Jun  5 2024 09:30:00 of the app descriptor, as seconds)" "git describe version: the code is the build time, stated"
expect_contains "$out" "is not a number or MAJOR.MINOR.PATCH" "release says why"
"$FOTA" mkimage --chip esp8266 --version v2.1-3-gabc --project plug --size 65536 -o plug.bin >/dev/null
out=$("$FOTA" release --key k.key --product plug --version v2.1-3-gabc --out rel plug.bin 2>&1) && rc=0 || rc=$?
expect_ne "$rc" 0 "no number, no build time: refused"
expect_contains "$out" "give --version-code N" "refusal asks for --version-code"
out=$("$FOTA" release --key k.key --product plug --version v2.1-3-gabc --version-code 2024061501 --out rel plug.bin 2>&1)
expect_contains "$out" "version code:     2024061501" "--version-code taken"
out=$("$FOTA" release --key k.key --product rc --version 1.2.3-rc1 --out rel old.bin 2>&1) && rc=0 || rc=$?
expect_ne "$rc" 0 "an overriding --version with a suffix is not guessed at either"

# ---- an ESP-IDF device with git describe versions: one install, then up to date ----------
start_fota_serve "$dir/rel"
out=$(sim_device --url "$SERVE_URL/blink/manifest.txt" --key k.pub --product blink --factory old.bin \
    --dir dev --checks 3 2>&1) || true
expect_contains "$out" "result: updated v5.0-3-g1f2e3d -> v5.0-4-g4532e6 and confirmed" "git describe build updated"
expect_eq "$(image_gets blink)" 1 "the image was downloaded once"

# the real ESP-IDF blink of ../shared (version qa-test-v5.0-20220830-4-g4532e6)
real=$SHARED/testdata/esp-images/esp_idf_blink_esp32s2.bin
if [ -f "$real" ]; then
    "$FOTA" mkimage --chip esp32s2 --version qa-test-v5.0-20220801 --project blink --size 16384 \
        --build-time 2022-08-01T00:00:00Z -o s2-old.bin >/dev/null
    out=$("$FOTA" release --key k.key --product blink-s2 --out rel "$real" 2>&1)
    expect_contains "$out" "(the build time Sep 13 2022 19:46:07 of the app descriptor, as seconds)" "real IDF build: code from its build time"
    out=$(sim_device --url "$SERVE_URL/blink-s2/manifest.txt" --key k.pub --product blink-s2 \
        --chip esp32s2 --factory s2-old.bin --dir dev-s2 --slot-size 262144 --checks 3 2>&1) || true
    expect_contains "$out" "result: updated qa-test-v5.0-20220801 -> qa-test-v5.0-20220830-4-g4532e6 and confirmed" "real IDF blink installed"
    expect_eq "$(image_gets blink-s2)" 1 "real IDF blink downloaded once"
else
    note "shared test data not present ($real): real-image checks skipped"
fi

# ---- a sketch whose version the device cannot read (code 0) ------------------------------
# The sketch's version is compiled in and unknown to the simulator, so its
# code is 0 and every release looks newer; only the image hash stops a loop.
"$FOTA" mkimage --chip esp8266 --version 2024061501 --project lamp --size 65536 -o lamp-old.bin >/dev/null
"$FOTA" mkimage --chip esp8266 --version 2024061502 --project lamp --size 65536 -o lamp-new.bin >/dev/null
python3 - lamp-new.bin <<'PY'
import sys
p = sys.argv[1]
raw = bytearray(open(p, 'rb').read())
i = raw.find(b'fota-app-version:')
raw[i:i + 4] = b'XXXX'   # the tag gone: a sketch from another build system
open(p, 'wb').write(raw)
PY
put_le32 lamp-new.bin 0x1010 0; put_le32 lamp-new.bin 0x1014 0
esp8266_fix_checksum lamp-new.bin; esp8266_add_crc lamp-new.bin
"$FOTA" release --key k.key --product lamp --version 2024061502 --out rel lamp-new.bin >/dev/null
out=$(sim_device --url "$SERVE_URL/lamp/manifest.txt" --key k.pub --product lamp --chip esp8266 \
    --factory lamp-old.bin --dir dev-lamp --checks 3 2>&1) || true
expect_contains "$out" "result: updated 2024061501 -> unknown and confirmed" "unknown-version sketch installed"
expect_contains "$out" "manifest names the running image" "then recognised by its hash" 
expect_eq "$(image_gets lamp)" 1 "downloaded once, not on every check"
# the same device without the hash (a port that cannot tell): the loop the issue describes
out=$(sim_device --url "$SERVE_URL/lamp/manifest.txt" --key k.pub --product lamp --chip esp8266 \
    --factory lamp-old.bin --dir dev-lamp2 --no-image-hash --max-boots 4 2>&1) || true
gets=$(image_gets lamp)
[ "$gets" -ge 3 ] && pass "without the hash it re-installs on every boot ($((gets - 1)) downloads in 4 boots)" \
    || fail "expected repeated downloads without the hash, got $((gets - 1))"
finish

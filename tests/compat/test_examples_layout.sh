#!/usr/bin/env bash
# The examples' {mac} manifest URLs name files `fota release` writes (issue 9,
# item 7): read the URL out of each example, release for one device, and let a
# simulated device with that MAC update from exactly that URL on fota serve.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/compat.sh"
SRC=${FOTA_SRC:?}
dir=$(fota_tmpdir)
cd "$dir"
MAC=240AC4123456

# "http://host:port/PATH" -> "/PATH"
url_path() { sed -E 's#^[a-z]+://[^/]+##'; }
ino=$SRC/examples/arduino/FotaBasic/FotaBasic.ino
base=$(sed -nE 's/^#define BASE "([^"]*)".*/\1/p' "$ino")
product=$(sed -nE 's/^#define PRODUCT "([^"]*)".*/\1/p' "$ino")
expr=$(sed -nE 's/.*options\.manifestUrl = (.*);.*/\1/p' "$ino")
# the C string concatenation BASE "/" PRODUCT "/{mac}/manifest.txt"
arduino_url=$(echo "$expr" | sed -E "s/BASE/\"$(printf %s "$base" | sed 's/[\/&]/\\&/g')\"/; s/PRODUCT/\"$product\"/g; s/\" *\"//g; s/^\"//; s/\".*//")
idf_url=$(sed -nE 's/^CONFIG_FOTA_MANIFEST_URL="([^"]*)"/\1/p' "$SRC/examples/esp-idf/sdkconfig.defaults")
kconfig_url=$(sed -nE '/config FOTA_MANIFEST_URL/,/help/s/.*default "([^"]*)"/\1/p' "$SRC/Kconfig")
note "Arduino: $arduino_url  ESP-IDF: $idf_url  Kconfig: $kconfig_url"
expect_contains "$arduino_url" "{mac}" "the Arduino example uses {mac}"
expect_contains "$idf_url" "{mac}" "the ESP-IDF example uses {mac}"

"$FOTA" keygen -o k >/dev/null
"$FOTA" mkimage --chip esp32 --version 1.0.0 --project demo --size 8192 -o v1.bin >/dev/null
"$FOTA" mkimage --chip esp32 --version 1.1.0 --project demo --size 8192 -o v2.bin >/dev/null
"$FOTA" release --key k.key --product demo-board --device "$MAC" --out www v2.bin >/dev/null
start_fota_serve "$dir/www"
for u in "$arduino_url" "$idf_url" "$kconfig_url"; do
    path=$(printf %s "$u" | url_path)
    file=www${path//\{mac\}/$MAC}
    [ -f "$file" ] && pass "fota release wrote $file for $u" || fail "no $file for $u"
    rm -rf dev
    out=$(sim_device --url "$SERVE_URL$path" --mac "$MAC" --key k.pub --product demo-board \
        --factory v1.bin --dir dev 2>&1) || true
    expect_contains "$out" "result: updated 1.0.0 -> 1.1.0 and confirmed" "a device updates from $path"
done
finish

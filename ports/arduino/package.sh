#!/bin/sh
# Assemble the Arduino IDE library (the "Add .ZIP Library" layout: everything
# under src/) from this repository:
#   ports/arduino/package.sh OUT_DIR      -> OUT_DIR/fota/ and OUT_DIR/fota.zip
# PlatformIO uses the repository directly through the root library.json.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:?usage: package.sh OUT_DIR}
lib=$out/fota
rm -rf "$lib"
mkdir -p "$lib/src/fota" "$lib/examples"
cp "$here/library.properties" "$lib/"
cp "$root"/include/fota/*.h "$lib/src/fota/"
cp "$root"/src/*.c "$root"/src/*.h "$lib/src/"
cp "$here"/src/* "$lib/src/"
cp "$root"/ports/esp32/fota_esp32.c "$root"/ports/esp32/fota_esp32.h "$lib/src/"
cp "$root/ports/crypto/bearssl.c" "$lib/src/fota_crypto_bearssl.inc"
cp "$root/ports/crypto/mbedtls.c" "$lib/src/fota_crypto_mbedtls.inc"
cp "$root/ports/crypto/fota_crypto_backends.h" "$lib/src/"
cp -r "$root/examples/arduino/"* "$lib/examples/"
if command -v zip >/dev/null 2>&1; then
    (cd "$out" && rm -f fota.zip && zip -qr fota.zip fota)
fi
echo "package.sh: Arduino library in $lib"

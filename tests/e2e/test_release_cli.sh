#!/usr/bin/env bash
# End to end: fota keygen, mkimage, release and inspect on synthetic and real
# images; exit codes and messages. Needs FOTA_BIN (set by ctest).
set -u

FOTA=${FOTA_BIN:?FOTA_BIN must point at the built fota tool}
SRC=${FOTA_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
DATA="$SRC/../shared/testdata/esp-images"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fota-release-e2e.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1

failures=0
checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# run EXPECTED_RC DESCRIPTION -- command...: runs it, keeps stdout/stderr in
# $out/$err, and checks the exit status.
run() {
    local want=$1 what=$2
    shift 3
    checks=$((checks + 1))
    "$@" >"$WORK/.out" 2>"$WORK/.err"
    rc=$?
    out=$(cat "$WORK/.out")
    err=$(cat "$WORK/.err")
    if [ "$rc" != "$want" ]; then
        fail "$what: exit $rc, expected $want"
        echo "  command: $*"
        sed 's/^/  stdout: /' "$WORK/.out" | head -20
        sed 's/^/  stderr: /' "$WORK/.err" | head -20
    fi
}
# has TEXT_VAR PATTERN DESCRIPTION: grep -E in a captured output
has() {
    checks=$((checks + 1))
    if ! printf '%s\n' "$1" | grep -Eq -- "$2"; then
        fail "$3: no /$2/ in:"
        printf '%s\n' "$1" | sed 's/^/  | /' | head -20
    fi
}
field() { sed -n "s/^$2: //p" "$1"; } # field MANIFEST KEY

# ---- keygen -----------------------------------------------------------------
run 0 "keygen" -- "$FOTA" keygen -o "$WORK/k"
has "$out" '^key id: +[0-9a-f]{16}$' "keygen prints the key id"
for f in k.key k.pub k.pub.h; do [ -s "$f" ] || fail "keygen did not write $f"; done
[ "$(stat -c %a k.key)" = 600 ] || fail "k.key mode is $(stat -c %a k.key), not 600"
grep -q 'BEGIN EC PRIVATE KEY' k.key || fail "k.key is not a PEM EC private key"
grep -q 'BEGIN PUBLIC KEY' k.pub || fail "k.pub is not a PEM public key"
grep -q 'static const uint8_t fota_pubkey\[65\] = {' k.pub.h || fail "k.pub.h lacks the array"
key_id=$(printf '%s\n' "$out" | sed -n 's/^key id: *//p')
grep -q "key id: $key_id" k.pub.h || fail "k.pub.h does not name key id $key_id"
[ "$(sed -n '/= {/,/};/p' k.pub.h | grep -o '0x[0-9a-f][0-9a-f]' | wc -l)" = 65 ] || fail "k.pub.h does not hold 65 bytes"
# the header compiles, and its bytes hash to the key id
if command -v cc >/dev/null; then
    printf '#include <stdio.h>\n#include "k.pub.h"\nint main(void){for(int i=0;i<65;i++)putchar(fota_pubkey[i]);return 0;}\n' >hdr.c
    if cc -Wall -Wextra -Werror -o hdr hdr.c; then
        [ "$(./hdr | sha256sum | cut -c1-16)" = "$key_id" ] || fail "key id is not SHA-256(pubkey)[0..8)"
    else
        fail "k.pub.h does not compile"
    fi
fi

before=$(sha256sum k.key)
run 1 "keygen refuses to overwrite" -- "$FOTA" keygen -o "$WORK/k"
has "$err" 'k.key already exists; refusing to overwrite' "keygen overwrite message"
[ "$(sha256sum k.key)" = "$before" ] || fail "refused keygen changed k.key"
run 0 "keygen --force" -- "$FOTA" keygen -o "$WORK/k2"
run 0 "keygen --force overwrites" -- "$FOTA" keygen -o "$WORK/k2" --force
run 0 "second key" -- "$FOTA" keygen -o "$WORK/other"
run 2 "keygen bad option" -- "$FOTA" keygen --bogus
(cd "$WORK" && mkdir -p dflt && cd dflt && "$FOTA" keygen >/dev/null && [ -s fota-signing.key ]) ||
    fail "keygen without -o does not write fota-signing.key"

# ---- mkimage ------------------------------------------------------------------
run 0 "mkimage v1" -- "$FOTA" mkimage --chip esp32 --version 1.0.0 --project demo \
    --size 262144 --marker FOTA-MARKER-V1 -o v1.bin
[ "$(stat -c %s v1.bin)" = 262144 ] || fail "v1.bin is not 262144 bytes"
run 0 "mkimage v2" -- "$FOTA" mkimage --chip esp32 --version 1.1.0 --project demo \
    --size 262144 -o v2.bin
run 0 "mkimage v1 again" -- "$FOTA" mkimage --chip esp32 --version 1.0.0 --project demo \
    --size 262144 --marker FOTA-MARKER-V1 -o v1b.bin
cmp -s v1.bin v1b.bin || fail "mkimage is not reproducible"
cmp -s v1.bin v2.bin && fail "two versions gave the same image"
[ "$(dd if=v1.bin bs=1 skip=296 count=14 2>/dev/null)" = FOTA-MARKER-V1 ] ||
    fail "marker not at offset 296"
run 0 "mkimage 1.5 MiB" -- "$FOTA" mkimage --chip esp32s3 --version 2.0.0 --project big \
    --size 1572864 --secure-version 3 --seed 42 -o big.bin
[ "$(stat -c %s big.bin)" = 1572864 ] || fail "big.bin is not 1572864 bytes"
run 0 "mkimage rounds odd sizes up" -- "$FOTA" mkimage --chip esp32c3 --version 1 --project p \
    --size 1000 -o odd.bin
has "$err" 'rounded up to 1008' "rounding note"
[ "$(stat -c %s odd.bin)" = 1008 ] || fail "odd.bin is not 1008 bytes"
run 2 "mkimage for an unknown chip" -- "$FOTA" mkimage --chip esp31 --version 1 --project p --size 4096 -o x.bin
has "$err" 'not a chip fota builds images for' "mkimage unknown chip message"
run 2 "mkimage esp8266 too small" -- "$FOTA" mkimage --chip esp8266 --version 1 --project p --size 4096 -o x.bin
has "$err" 'must be 5472..' "mkimage esp8266 size message"
run 2 "mkimage too small" -- "$FOTA" mkimage --chip esp32 --version 1 --project p --size 100 -o x.bin
run 2 "mkimage missing args" -- "$FOTA" mkimage --chip esp32 -o x.bin

# ---- inspect images -----------------------------------------------------------------
run 0 "inspect v1" -- "$FOTA" inspect v1.bin
has "$out" '^format: +ESP32-family application$' "inspect format"
has "$out" 'chip: +ESP32 \(chip id 0x0000\)' "inspect chip"
has "$out" 'project "demo", version "1.0.0", secure_version 0, idf_ver "fota-sim"' "inspect app desc"
has "$out" 'checksum: +valid' "inspect checksum"
has "$out" 'appended sha256: +valid' "inspect hash"
has "$out" "sha256: +$(sha256sum v1.bin | cut -c1-64)" "inspect file sha256"
has "$out" '^result: +valid$' "inspect result"
run 0 "inspect big" -- "$FOTA" inspect big.bin
has "$out" 'ESP32-S3 \(chip id 0x0009\)' "big chip"
has "$out" 'secure_version 3' "big secure_version"

cp v1.bin bad.bin
printf '\x55' | dd of=bad.bin bs=1 seek=5000 conv=notrunc 2>/dev/null
run 1 "inspect corrupted image" -- "$FOTA" inspect bad.bin
has "$out" 'checksum: +INVALID' "corrupted checksum"
has "$err" 'bad.bin: XOR checksum does not match' "corrupted message"
head -c 100000 v1.bin >short.bin
run 2 "inspect truncated image" -- "$FOTA" inspect short.bin
has "$err" 'short.bin: truncated' "truncated message"
run 2 "inspect missing file" -- "$FOTA" inspect nothere.bin
has "$err" 'cannot read nothere.bin: No such file or directory' "missing file message"
run 2 "inspect without file" -- "$FOTA" inspect

if [ -d "$DATA" ]; then
    run 0 "inspect blink" -- "$FOTA" inspect "$DATA/esp_idf_blink_esp32s2.bin"
    has "$out" 'ESP32-S2 \(chip id 0x0002\)' "blink chip"
    has "$out" 'entry: +0x40022f84' "blink entry"
    has "$out" 'segments: +6' "blink segments"
    has "$out" 'project "blink", version "qa-test-v5.0-20220830-4-g4532e6"' "blink desc"
    run 0 "inspect bootloader" -- "$FOTA" inspect "$DATA/bootloader_esp32.bin"
    has "$out" 'without app descriptor' "bootloader format"
    has "$out" 'appended sha256: +none' "bootloader has no hash"
    run 0 "inspect esp8266" -- "$FOTA" inspect "$DATA/esp8266_deepsleep.bin"
    has "$out" 'ESP8266 Arduino binary' "esp8266 format"
    has "$out" 'sketch image at offset 0x1000' "esp8266 sketch"
    has "$out" 'no chip id' "esp8266 chip"
    run 0 "inspect partition table" -- "$FOTA" inspect "$DATA/partitions_singleapp.bin"
    has "$out" 'raw \(not an ESP image\)' "partition table is raw"
    has "$out" 'partition table' "partition table note"
else
    echo "skipped: shared test data not present ($DATA)"
fi

# ---- release ------------------------------------------------------------------------
run 0 "release v1" -- "$FOTA" release --key k.key --product demo --out rel v1.bin
M=rel/demo/manifest.txt
[ -f rel/demo/firmware/demo-1.0.0.bin ] || fail "release did not write the image"
cmp -s v1.bin rel/demo/firmware/demo-1.0.0.bin || fail "released image differs from v1.bin"
[ "$(field $M url)" = firmware/demo-1.0.0.bin ] || fail "url is '$(field $M url)'"
[ "$(field $M sequence)" = 1 ] || fail "first sequence is '$(field $M sequence)'"
[ "$(field $M version)" = 1.0.0 ] || fail "version from the app descriptor"
[ "$(field $M version-code)" = 1000000 ] || fail "version code from 1.0.0"
[ "$(field $M chip)" = esp32 ] || fail "chip from the header"
[ "$(field $M project)" = demo ] || fail "project from the app descriptor"
[ "$(field $M size)" = 262144 ] || fail "size"
[ "$(field $M sha256)" = "$(sha256sum v1.bin | cut -c1-64)" ] || fail "sha256"
[ "$(field $M key-id)" = "$key_id" ] || fail "key-id"
[ "$(tail -n1 $M | cut -c1-11)" = "signature: " ] || fail "signature is not the last line"
has "$out" 'sequence: +1$' "release summary sequence"
has "$out" 'manifest: +rel/demo/manifest.txt' "release summary paths"
ls rel/demo rel/demo/firmware | grep -q tmp && fail "temporary files left behind"

run 0 "inspect manifest with the right key" -- "$FOTA" inspect $M --key k.pub
has "$out" "signature: +valid \\(key $key_id\\)" "valid signature"
has "$out" 'matches \(size and sha256\)' "image next to the manifest checked"
run 0 "inspect manifest with the private key" -- "$FOTA" inspect $M --key k.key
run 1 "inspect manifest with another key" -- "$FOTA" inspect $M --key other.pub
has "$err" "signed by key id $key_id, not by other.pub" "other key message"
run 0 "inspect manifest without a key" -- "$FOTA" inspect $M
has "$out" 'not checked' "unchecked signature"
sed 's/^size: 262144$/size: 262145/' $M >tampered.txt
run 1 "inspect tampered manifest" -- "$FOTA" inspect tampered.txt --key k.pub
has "$err" 'signature does not verify' "tampered message"
printf 'fota-manifest: 1\nproduct: x\n' >broken.txt
run 2 "inspect malformed manifest" -- "$FOTA" inspect broken.txt
has "$err" 'malformed manifest at line 3' "malformed manifest message"
sed 's/$/\r/' $M >crlf.txt
run 2 "inspect CRLF manifest" -- "$FOTA" inspect crlf.txt --key k.pub
run 2 "inspect with an unreadable key" -- "$FOTA" inspect $M --key nokey.pub
has "$err" 'cannot read nokey.pub' "missing key message"

# Deterministic signatures: the same release twice gives the same bytes, and
# OpenSSL (an independent implementation) accepts the signature.
run 0 "release v1 elsewhere" -- "$FOTA" release --key k.key --product demo --out rel2 v1.bin
cmp -s $M rel2/demo/manifest.txt || fail "signing is not deterministic"
if command -v openssl >/dev/null && command -v python3 >/dev/null; then
    python3 - "$M" <<'EOF' || fail "could not convert the signature for OpenSSL"
import sys
t = open(sys.argv[1], 'rb').read()
i = t.rindex(b'signature: ')
open('signed.bin', 'wb').write(t[:i])
sig = bytes.fromhex(t[i + 11:].strip().decode())
def der_int(b):
    b = b.lstrip(b'\0') or b'\0'
    return b'\x02' + bytes([len(b) + (b[0] >> 7)]) + (b'\0' if b[0] & 0x80 else b'') + b
body = der_int(sig[:32]) + der_int(sig[32:])
open('sig.der', 'wb').write(b'\x30' + bytes([len(body)]) + body)
EOF
    run 0 "OpenSSL verifies the signature" -- openssl dgst -sha256 -verify k.pub -signature sig.der signed.bin
    run 1 "OpenSSL rejects another key" -- openssl dgst -sha256 -verify other.pub -signature sig.der signed.bin
else
    echo "note: openssl or python3 missing, independent signature check skipped"
fi

mtime1=$(stat -c %Y $M)
run 0 "release v2" -- "$FOTA" release --key k.key --product demo --out rel --expires-in-days 30 v2.bin
# nginx's ETag is mtime (whole seconds) and size: the replacement must move
# the mtime even when written within the same second.
[ "$(stat -c %Y $M)" -gt "$mtime1" ] || fail "the v2 manifest kept the v1 manifest's modification second"
[ "$(field $M sequence)" = 2 ] || fail "second sequence is '$(field $M sequence)'"
[ "$(field $M version)" = 1.1.0 ] || fail "v2 version"
[ -f rel/demo/firmware/demo-1.0.0.bin ] || fail "v1 image removed by the v2 release"
exp=$(field $M expires)
[ -n "$exp" ] || fail "no expires line"
exp_s=$(date -u -d "$exp" +%s 2>/dev/null || echo 0)
now=$(date -u +%s)
[ $((exp_s - now)) -gt $((29 * 86400)) ] && [ $((exp_s - now)) -le $((30 * 86400)) ] ||
    fail "expires $exp is not 30 days ahead"
run 0 "inspect v2 manifest" -- "$FOTA" inspect $M --key k.pub

cp $M before.txt
run 1 "downgrade refused" -- "$FOTA" release --key k.key --product demo --out rel v1.bin
has "$err" 'version code 1000000 \(1.0.0\) is not greater than the current release.s 1001000' "downgrade message"
run 1 "same version refused" -- "$FOTA" release --key k.key --product demo --out rel v2.bin
cmp -s $M before.txt || fail "a refused release changed the manifest"
run 1 "lower sequence refused" -- "$FOTA" release --key k.key --product demo --out rel \
    --version 1.2.0 --sequence 2 v2.bin
has "$err" 'sequence 2 is not greater' "sequence message"

# Overwrite refused: a different build under a published version's name
run 0 "mkimage another 1.1.0" -- "$FOTA" mkimage --chip esp32 --version 1.1.0 --project demo \
    --size 262144 --seed 7 -o v2-other.bin
run 1 "image overwrite refused" -- "$FOTA" release --key k.key --product demo --out rel \
    --allow-downgrade v2-other.bin
has "$err" 'demo-1.1.0.bin already exists with different contents' "overwrite message"
cmp -s v2.bin rel/demo/firmware/demo-1.1.0.bin || fail "published image was overwritten"
cmp -s $M before.txt || fail "a refused release changed the manifest"

run 0 "downgrade allowed" -- "$FOTA" release --key k.key --product demo --out rel --allow-downgrade v1.bin
[ "$(field $M sequence)" = 3 ] || fail "sequence after the allowed downgrade"
[ "$(field $M version)" = 1.0.0 ] || fail "version after the allowed downgrade"

# Options override what the image says
run 0 "release with overrides" -- "$FOTA" release --key k.key --product demo-x --out rel \
    --version 7.0.0-rc1 --version-code 7000000 --security-counter 4 --sequence 100 \
    --expires 2031-01-01T00:00:00Z --url https://cdn.example.com/x.bin v1.bin
M2=rel/demo-x/manifest.txt
[ "$(field $M2 version)" = 7.0.0-rc1 ] || fail "--version override"
[ "$(field $M2 security-counter)" = 4 ] || fail "--security-counter"
[ "$(field $M2 sequence)" = 100 ] || fail "--sequence"
[ "$(field $M2 expires)" = 2031-01-01T00:00:00Z ] || fail "--expires"
[ "$(field $M2 url)" = https://cdn.example.com/x.bin ] || fail "--url"
run 1 "security counter lowered" -- "$FOTA" release --key k.key --product demo-x --out rel \
    --version 7.0.1 --security-counter 3 v1.bin
has "$err" 'security counter 3 is below the current release.s 4' "security counter message"
run 1 "chip contradicting the header" -- "$FOTA" release --key k.key --product demo-y --out rel \
    --chip esp32s2 v1.bin
has "$err" '--chip esp32s2 contradicts v1.bin, whose header says ESP32' "chip conflict message"
run 1 "bad expires" -- "$FOTA" release --key k.key --product demo-y --out rel --expires 2031-02-30T00:00:00Z v1.bin
run 2 "expires twice" -- "$FOTA" release --key k.key --product demo-y --out rel --expires 2031-01-01T00:00:00Z --expires-in-days 3 v1.bin
run 2 "bad product id" -- "$FOTA" release --key k.key --product ../evil --out rel v1.bin
has "$err" "product '../evil'" "product id message"
run 2 "missing --key" -- "$FOTA" release --product demo --out rel v1.bin
run 1 "public key cannot sign" -- "$FOTA" release --key k.pub --product demo-z --out rel v1.bin
has "$err" 'cannot load the private key k.pub' "public key message"
run 1 "missing firmware" -- "$FOTA" release --key k.key --product demo-z --out rel nothere.bin
has "$err" 'cannot read nothere.bin' "missing firmware message"
run 1 "broken image refused" -- "$FOTA" release --key k.key --product demo-z --out rel bad.bin
has "$err" 'bad.bin is a broken ESP32-family application: XOR checksum' "broken image message"
[ -e rel/demo-z ] && fail "refused releases created rel/demo-z"

# Real images
if [ -d "$DATA" ]; then
    # a git-describe version is no number: the code is the app descriptor's build time, stated
    run 0 "blink: version code from its build time" -- "$FOTA" release --key k.key --product blink \
        --out rel-buildtime "$DATA/esp_idf_blink_esp32s2.bin"
    has "$err" "version 'qa-test-v5.0-20220830-4-g4532e6' is not a number" "blink note"
    [ "$(field rel-buildtime/blink/manifest.txt version-code)" = 1663098367 ] || fail "blink build-time code"
    run 0 "release blink" -- "$FOTA" release --key k.key --product blink --out rel \
        --version-code 2022083001 "$DATA/esp_idf_blink_esp32s2.bin"
    [ "$(field rel/blink/manifest.txt chip)" = esp32s2 ] || fail "blink chip"
    [ "$(field rel/blink/manifest.txt project)" = blink ] || fail "blink project"
    [ "$(field rel/blink/manifest.txt version)" = qa-test-v5.0-20220830-4-g4532e6 ] || fail "blink version"
    run 0 "inspect blink manifest" -- "$FOTA" inspect rel/blink/manifest.txt --key k.pub
    run 1 "blink v2 must be newer" -- "$FOTA" release --key k.key --product blink --out rel \
        --version-code 2022083001 --version v2 "$DATA/esp_idf_blink_esp32s2.bin"

    run 1 "esp8266 needs a version" -- "$FOTA" release --key k.key --product deepsleep --out rel \
        "$DATA/esp8266_deepsleep.bin"
    has "$err" 'give --version' "esp8266 version message"
    run 1 "esp8266 is not esp32" -- "$FOTA" release --key k.key --product deepsleep --out rel \
        --version 1.0 --chip esp32 "$DATA/esp8266_deepsleep.bin"
    run 0 "release esp8266 v1" -- "$FOTA" release --key k.key --product deepsleep --out rel \
        --version 1.0 "$DATA/esp8266_deepsleep.bin"
    [ "$(field rel/deepsleep/manifest.txt chip)" = esp8266 ] || fail "esp8266 chip"
    [ "$(field rel/deepsleep/manifest.txt size)" = 297632 ] || fail "esp8266 size"
    run 0 "release esp8266 v2" -- "$FOTA" release --key k.key --product deepsleep --out rel \
        --version 1.1 "$DATA/esp8266_deepsleep.bin"
    [ "$(field rel/deepsleep/manifest.txt sequence)" = 2 ] || fail "esp8266 sequence"
    run 0 "inspect esp8266 manifest" -- "$FOTA" inspect rel/deepsleep/manifest.txt --key k.pub

    run 1 "raw file needs a chip" -- "$FOTA" release --key k.key --product pt --out rel \
        --version 1 "$DATA/partitions_singleapp.bin"
    has "$err" 'not an ESP image, so its chip is unknown: give --chip' "raw chip message"
    run 1 "esp32 chip on another product's history" -- "$FOTA" release --key k.key \
        --product deepsleep --out rel --version 9.0 v1.bin
    has "$err" 'product deepsleep is released for esp8266' "chip change message"
fi

echo "release_cli: $checks checks, $failures failed"
[ "$failures" = 0 ]

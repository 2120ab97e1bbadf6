# shellcheck shell=bash
# tests/compat/compat.sh - helpers for the compat tests, sourced after
# tests/e2e/lib.sh (which sets `set -euo pipefail` and the server helpers).
#
#   FOTA           the fota tool ($FOTA_BIN)
#   SHARED         ../shared of the source tree, or $FOTA_SHARED
#   poke FILE OFFSET XOR       flip bits of one byte in place
#   put_le32 FILE OFFSET VALUE store a little-endian word in place
#   esp8266_add_crc FILE       what esp8266/Arduino tools/elf2bin.py add_crc does:
#                              the words at 0x1010/0x1014 zeroed, a CRC-32
#                              (poly 0x04C11DB7, init 0xFFFFFFFF, MSB first, no
#                              final XOR) of the whole file, length and CRC stored
#   esp8266_fix_checksum FILE  recompute the sketch image's XOR checksum over
#                              the bytes as they are (zero the CRC words first)
#   sim_device ARGS...         fota sim with the defaults the tests share

FOTA=${FOTA_BIN:?FOTA_BIN is not set (run through ctest)}
SHARED=${FOTA_SHARED:-${FOTA_SRC:-.}/../shared}

poke() {
    python3 - "$1" "$2" "$3" <<'PY'
import sys
path, off, x = sys.argv[1], int(sys.argv[2], 0), int(sys.argv[3], 0)
with open(path, 'r+b') as f:
    f.seek(off); b = f.read(1)[0]; f.seek(off); f.write(bytes([b ^ x]))
PY
}

put_le32() {
    python3 - "$1" "$2" "$3" <<'PY'
import struct, sys
path, off, v = sys.argv[1], int(sys.argv[2], 0), int(sys.argv[3], 0)
with open(path, 'r+b') as f:
    f.seek(off); f.write(struct.pack('<I', v))
PY
}

esp8266_add_crc() {
    python3 - "$1" <<'PY'
import struct, sys
path = sys.argv[1]
raw = bytearray(open(path, 'rb').read())
raw[0x1010:0x1018] = bytes(8)
crc = 0xFFFFFFFF
for byte in raw:
    crc ^= byte << 24
    for _ in range(8):
        crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else (crc << 1)
        crc &= 0xFFFFFFFF
raw[0x1010:0x1018] = struct.pack('<II', len(raw), crc)
open(path, 'wb').write(raw)
PY
}

esp8266_fix_checksum() {
    python3 - "$1" <<'PY'
import struct, sys
path = sys.argv[1]
raw = bytearray(open(path, 'rb').read())
pos, s = 0x1000 + 8, 0xEF
for _ in range(raw[0x1001]):
    n = struct.unpack('<I', raw[pos + 4:pos + 8])[0]
    for b in raw[pos + 8:pos + 8 + n]:
        s ^= b
    pos += 8 + n
raw[pos | 15] = s
open(path, 'wb').write(raw)
PY
}

sim_device() {
    "$FOTA" sim --attempts 1 --backoff 10 --timeout 5000 "$@"
}

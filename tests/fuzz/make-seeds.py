#!/usr/bin/env python3
"""Writes the seed corpus in tests/fuzz/corpus/ (hand-made inputs; run again
after editing). Each fuzz target's input format is described at the top of its
source file; fuzz_http and fuzz_url start with control bytes."""
import hashlib
import os
import struct

top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    d = os.path.join(top, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- fuzz_http: byte 0 = HEAD bit | line-size index << 1 | max read << 3,
#      byte 1 = Location buffer size, bytes 2-3 = read-size seed.
def http(name, text, head=0, line=2, max_read=0, loc=200, seed=0x1234):
    ctrl = bytes([head | (line << 1) | (max_read << 3), loc, seed >> 8, seed & 0xFF])
    write("http", name, ctrl + text)


http("length-etag", b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n"
     b"Date: Sat, 23 Nov 2024 10:00:00 GMT\r\nContent-Type: application/octet-stream\r\n"
     b"Content-Length: 16\r\nLast-Modified: Fri, 22 Nov 2024 09:00:00 GMT\r\n"
     b"Connection: keep-alive\r\nETag: \"6740c3a0-10\"\r\nAccept-Ranges: bytes\r\n\r\n"
     b"\xe9\x03\x02\x20firmware....", max_read=7)
http("chunked-trailers", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"5;name=value\r\nhello\r\n1a ; ext=\"q\"\r\nabcdefghijklmnopqrstuvwxyz\r\n"
     b"0\r\nX-Checksum: 1234\r\n\r\n", max_read=3)
http("continue-206", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
     b"Link: </a>; rel=preload\r\n\r\nHTTP/1.1 206 Partial Content\r\n"
     b"Content-Range: bytes 10-13/100\r\nContent-Length: 4\r\nConnection: close\r\n\r\nWXYZ",
     max_read=1)
http("redirect", b"HTTP/1.1 302 Found\r\nLocation: https://cdn.example.com/fw/app.bin?sig=ab\r\n"
     b"Content-Length: 0\r\n\r\n", loc=40)
http("not-modified", b"HTTP/1.1 304 Not Modified\r\nETag: W/\"abc\"\r\nContent-Length: 1234\r\n\r\n")
http("http10-close", b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nbody until close",
     max_read=5)
http("retry-after", b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\n"
     b"Content-Length: 5\r\nConnection: Keep-Alive, close\r\n\r\nbusy.", line=0, max_read=2)
http("pipelined", b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
     b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo", max_read=31)
http("range-unsatisfied", b"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */1234\r\n"
     b"Content-Length: 0\r\n\r\n")
http("range-open", b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/*\r\n"
     b"Transfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n", max_read=9)
http("head", b"HTTP/1.1 200 OK\r\nContent-Length: 262144\r\nETag: \"x\"\r\n\r\n", head=1)
http("bare-lf", b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nContent-Length: 9\n\n"
     b"3\nabc\n0\n\n", line=1, max_read=4)
http("long-line", b"HTTP/1.1 404 Not Found\r\nX-Long: " + b"x" * 300 + b"\r\n\r\n", line=3)

# issue 15: framing shapes parsers in front of a device may split differently
http("smuggle-bare-lf", b"HTTP/1.1 200 OK\r\nDummy: x\nContent-Length: 23\r\n\r\n"
     b"HTTP/1.1 200 OK\r\n\r\nsmuggled", max_read=5)
http("lf-then-crlf", b"HTTP/1.1 200 OK\nContent-Length: 2\r\n\r\nok", max_read=3)
http("empty-lines-before-status", b"\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n\r\n"
     b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", max_read=2)
http("chunk-ext-grammar", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"2 ; a = b;c;d=\"x;\\\" y\"\r\nok\r\n1;e=\"\"\r\n!\r\n0\r\n\r\n", max_read=4)
http("chunk-ext-unbalanced", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"2;a=\"x\r\nok\r\n0\r\n\r\n", max_read=6)
http("chunk-size-space", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"a \r\n0123456789\r\n0\r\n\r\n")
http("many-interim", b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" * 17
     + b"HTTP/1.1 204 No Content\r\n\r\n", max_read=30)
# issue 9: headers the agent does not use, of any length; a long Location
http("long-unneeded-headers", b"HTTP/1.1 200 OK\r\nSet-Cookie: s=" + b"c" * 3000
     + b"\r\nContent-Security-Policy: " + b"default-src 'self'; " * 60
     + b"\r\nContent-Length: 2\r\n\r\nok", line=1, max_read=31)
http("long-location", b"HTTP/1.1 302 Found\r\nLocation: https://cdn.example.com/fw.bin?sig="
     + b"a" * 180 + b"\r\nLocation: https://cdn.example.com/fw.bin?sig=" + b"a" * 180
     + b"  \r\nContent-Length: 0\r\n\r\n", line=0, loc=255, max_read=9)

# ---- fuzz_url: byte 0 = resolve buffer size (0: 4096), then base NUL ref.
def url(name, base, ref, size=0):
    write("url", name, bytes([size]) + base + b"\0" + ref)


url("rfc-parent", b"http://a/b/c/d;p?q", b"../g")
url("rfc-dots", b"http://a/b/c/d;p?q", b"./g/./h/../i?y/./x#s", size=30)
url("relative", b"https://fw.example.com:8443/dir/manifest.txt", b"fw-1.2.0.bin")
url("scheme-relative", b"http://[::1]:8000/a/b", b"//cdn.example.net/x/./y")
url("absolute", b"http://192.168.1.10/fw", b"https://Other.Example:443/x/../y?z=%2F#f")
url("query-only", b"http://h", b"?x=1")
url("ipv4-mapped", b"http://[::ffff:192.0.2.1]/a/", b"/abs/./path/..")
url("fragment", b"HTTP://Example.COM:80/a", b"#frag", size=24)
url("bad-userinfo", b"http://user@h/", b"x")

# ---- fuzz_manifest: the manifest text.
manifest = (b"fota-manifest: 1\nproduct: demo-board\nchip: esp32\nversion: 1.2.0\n"
            b"version-code: 1002000\nsecurity-counter: 0\nsequence: 1732440000\n"
            b"size: 262144\n"
            b"sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
            b"url: demo-board-1.2.0.bin\nkey-id: 3f0c2a9b1d7e6a55\n")
sig = b"signature: " + b"0123456789abcdef" * 8 + b"\n"
write("manifest", "valid", manifest + sig)
write("manifest", "optional-fields",
      manifest.replace(b"chip: esp32", b"chip: esp32c3")
      + b"expires: 2027-01-31T00:00:00Z\nproject: demo\n" + sig)
write("manifest", "absolute-url",
      manifest.replace(b"url: demo-board-1.2.0.bin",
                       b"url: https://fw.example.com/demo/app.bin") + sig)
write("manifest", "artifacts",
      manifest.replace(b"fota-manifest: 1", b"fota-manifest: 2")
      + b"artifact: compressed 190000 " + b"ab" * 32 + b" demo-board-1.2.0.compressed\n"
      + b"artifact: delta 20000 " + b"cd" * 32 + b" demo-board-1.2.0.from-1.patch 250000 "
      + b"ef" * 32 + b"\n" + sig)
# format 3: data-partition images (docs/data-partitions.md), with an artifact
write("manifest", "data",
      manifest.replace(b"fota-manifest: 1", b"fota-manifest: 3")
      + b"data: storage 1048576 " + b"12" * 32 + b" demo-board-1.2.0.storage.bin\n"
      + b"artifact: compressed 190000 " + b"ab" * 32 + b" demo-board-1.2.0.compressed\n"
      + b"data: nvs_keys.2 4096 " + b"34" * 32 + b" https://fw.example.com/keys.bin\n" + sig)
write("manifest", "data-in-format-2",
      manifest.replace(b"fota-manifest: 1", b"fota-manifest: 2")
      + b"data: spiffs 65536 " + b"56" * 32 + b" fs.bin\n" + sig)
write("manifest", "data-duplicate-label",
      manifest.replace(b"fota-manifest: 1", b"fota-manifest: 3")
      + b"data: ffat 8192 " + b"78" * 32 + b" a.bin\n"
      + b"data: ffat 8192 " + b"9a" * 32 + b" b.bin\n" + sig)
write("manifest", "missing-signature", manifest)
write("manifest", "version", b"v1.2.3-rc1")
write("manifest", "date", b"2024-02-29T23:59:59Z")


# ---- fuzz_esp_image: synthetic images.
def segments_blob(segs):
    out = b""
    for addr, data in segs:
        out += struct.pack("<II", addr, len(data)) + data
    return out


def finish(header, segs, hash_appended):
    body = header + segments_blob(segs)
    csum = 0xEF
    for _, data in segs:
        for b in data:
            csum ^= b
    pad = 15 - (len(body) % 16)
    img = body + b"\0" * pad + bytes([csum])
    if hash_appended:
        img += hashlib.sha256(img).digest()
    return img


def esp32_header(nseg, chip_id, hash_appended, entry=0x40080000):
    return (struct.pack("<BBBBI", 0xE9, nseg, 2, 0x20, entry)
            + bytes([0xEE, 0, 0, 0]) + struct.pack("<H", chip_id)
            + bytes([0]) + struct.pack("<HH", 0, 0xFFFF) + bytes(4) + bytes([hash_appended]))


def app_desc(version, project, idf, secure_version=0):
    d = struct.pack("<III", 0xABCD5432, secure_version, 0) + bytes(4)
    d += version.ljust(32, b"\0") + project.ljust(32, b"\0")
    d += b"10:00:00".ljust(16, b"\0") + b"Nov 23 2024".ljust(16, b"\0")
    d += idf.ljust(32, b"\0") + bytes(32) + bytes(256 - 176)
    assert len(d) == 256
    return d


write("esp_image", "esp32-app-hash", finish(
    esp32_header(2, 0x0000, 1),
    [(0x3F400020, app_desc(b"1.2.0", b"demo", b"v5.1.2", 1)),
     (0x40080000, bytes(range(48)))], 1))
write("esp_image", "esp32c3-app", finish(
    esp32_header(2, 0x0005, 0, 0x40380000),
    [(0x3C000020, app_desc(b"2.0.0", b"c3-demo", b"v5.2")), (0x40380000, b"\x13\x00" * 12)], 0))
write("esp_image", "esp32s3-no-desc", finish(
    esp32_header(1, 0x0009, 0), [(0x40374000, b"\x36\x41\x00" * 5)], 0))
write("esp_image", "esp8266-app", finish(
    struct.pack("<BBBBI", 0xE9, 2, 0, 0x20, 0x40100000),
    [(0x40100000, b"\x12\xc1\xf0" * 6), (0x3FFE8000, b"data" * 4)], 0))
write("esp_image", "esp32-header-only", esp32_header(3, 0x000D, 1)[:24])
write("esp_image", "raw", b"not an image at all, raw bytes\n")


# ---- fuzz_delta: byte 0 = raw bit | (block shift - 12) << 1 | input chunk seed << 4,
#      byte 1 = output chunk seed, bytes 2-3 = target size / 16, bytes 4-5 = base size,
#      then the block stream (or, raw, a whole patch). The base is the target's
#      fixed pattern. Patches come from the encoder: set FOTA_BIN to a built
#      `fota` to write these seeds (they are skipped otherwise).
def delta_seeds():
    import subprocess
    import tempfile
    fota = os.environ.get("FOTA_BIN")
    if not fota:
        print("FOTA_BIN not set: delta seeds left as they are")
        return
    base = bytes(((i * 2654435761) % 2**32 >> 13) & 0xFF for i in range(20000))
    target = bytearray(base[1000:9000] + b"new code " * 300 + base[200:6000] + base[3000:4000])
    for i in range(0, len(target), 97):
        target[i] ^= 0x40
    target = bytes(target[: len(target) // 16 * 16])
    with tempfile.TemporaryDirectory() as tmp:
        def run(*args):
            subprocess.run([fota, *args], check=True, stdout=subprocess.DEVNULL)
        paths = {n: os.path.join(tmp, n) for n in ("base", "target", "patch", "packed")}
        open(paths["base"], "wb").write(base)
        open(paths["target"], "wb").write(target)
        run("delta", paths["base"], paths["target"], "-o", paths["patch"], "--block-size", "4096")
        run("compress", paths["target"], "-o", paths["packed"], "--block-size", "8192")
        patch = open(paths["patch"], "rb").read()
        packed = open(paths["packed"], "rb").read()
    size16 = struct.pack("<H", len(target) // 16)
    write("delta", "patch-blocks", bytes([0x50, 7]) + size16 + struct.pack("<H", len(base))
          + patch[84:])
    write("delta", "compressed-blocks", bytes([0x32, 200]) + size16 + struct.pack("<H", 0)
          + packed[84:])
    write("delta", "raw-patch", bytes([0x01, 3]) + size16 + struct.pack("<H", len(base)) + patch)


delta_seeds()
# ---- fuzz_record: geometry bytes, plants (6 bytes each), then (op, arg)
#      pairs: op % 5 = 0 power-on, 1 save, 2 save with a failing operation,
#      3 save with a power cut, 4 find another length.
def record(name, sectors, sector_shift, ws_index, data_len, plants, ops):
    head = bytes([sectors - 2, sector_shift | (ws_index << 2), data_len - 1, len(plants)])
    write("record", name, head + b"".join(plants) + bytes(ops))


def copy(slot, seq, fill):
    return bytes([0, slot & 0xFF, slot >> 8, seq & 0xFF, seq >> 8, fill])


saves = [1, 0] * 40
record("blank-saves", 2, 0, 1, 76, [], saves + [0, 0])
# the issue 15 shape: fill the region (3 sectors of 512 bytes, 5 copies each),
# fail the save at the wrap, cut the next one after its erase
record("wrap-fail-then-cut", 3, 1, 1, 76, [], [1, 0] * 15 + [2, 1, 3, 0x20, 0, 0])
record("planted-copies", 4, 1, 2, 40, [copy(0, 5, 0xAA), copy(3, 9, 0xBB), copy(7, 2, 0xCC)],
       [0, 0, 1, 0, 3, 0x11, 1, 0, 2, 0x12, 1, 0, 0, 0])
record("garbage-sector", 2, 0, 0, 16, [bytes([2, 0, 0x5A, 0, 0, 0]), copy(20, 3, 1)],
       [1, 0, 1, 0, 3, 0x10, 1, 0])
record("legacy-length", 3, 0, 1, 76, [bytes([3, 2, 0, 71, 1, 0x42])], [4, 71, 1, 0, 4, 71, 0, 0])
record("sequence-exhausted", 2, 0, 1, 8, [copy(1, 0xFFFF, 7)], [1, 0, 1, 0, 0, 0])

# Check-in header fields (tools/fleet/checkin_parse.c): "Name: value" lines.
write("checkin", "full", b"Fota-Id: 240AC4123456\nFota-Product: demo\nFota-Version: 1002000\n"
      b"Fota-Sequence: 7\nFota-Image: "
      b"b4d5e075f63a1c7a8d6d1e0d43790fe872f98fc7d56d7fcea969a9078db72633\n"
      b"Fota-Last: rolled-back 0 2000000\n")
write("checkin", "failed", b"Fota-Id: dev-1\nFota-Product: demo\nFota-Version: 0\n"
      b"Fota-Last: failed -73 2000000\n")
write("checkin", "duplicate", b"Fota-Id: a\nfota-id: b\nFota-Product: p\nFota-Version: 1\n")

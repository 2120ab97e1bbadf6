#!/usr/bin/env python3
"""The stock Arduino HTTP updater, emulated byte for byte on the wire.

What ESP8266httpUpdate::handleUpdate / getAvailableVersion (esp8266/Arduino
@f946290, with ESP8266HTTPClient::sendHeader) and HTTPUpdate::handleUpdate
(espressif/arduino-esp32 @c2ad675, with HTTPClient::sendHeader) send and how
they judge the answer; facts in ../shared/reference/field-facts.md section 4.
Written from those descriptions for the tests; no code of theirs is here.

usage: stock_client.py --family esp8266|esp32 --url http://HOST:PORT/PATH
         --running IMAGE [--mac AA:BB:CC:DD:EE:FF] [--version V]
         [--mode sketch|version] [--out NEW.bin] [--dump-request FILE]
Prints one result line and exits: 0 HTTP_UPDATE_OK (image written to --out,
or in mode version the server's version printed), 3 HTTP_UPDATE_NO_UPDATES
(304), 1 HTTP_UPDATE_FAILED with the stock client's error name.
"""
import argparse
import hashlib
import socket
import sys
from urllib.parse import urlsplit

FREE_SPACE = 1044480     # what an ESP with a 4 MB flash and 1 MB sketch slots reports
CHIP_SIZE = 4194304
SDK = {"esp8266": "2.2.2-dev(38a443e)", "esp32": "v4.4.7-dirty"}


def request_bytes(a, host, port, uri, running):
    """The request exactly as sendHeader() assembles it."""
    img = open(running, "rb").read()
    md5 = hashlib.md5(img).hexdigest()
    host_line = host if port in (80, 443) else "%s:%d" % (host, port)
    mac = a.mac.upper()
    ap = "%02X" % (int(mac[:2], 16) | 2) + mac[2:]  # soft-AP MAC: locally administered
    lines = ["GET %s HTTP/1.0" % uri, "Host: " + host_line]
    if a.family == "esp8266":
        lines += ["User-Agent: ESP8266-http-Update", "Connection: close",
                  "x-ESP8266-Chip-ID: 10680431",
                  "x-ESP8266-STA-MAC: " + mac,
                  "x-ESP8266-AP-MAC: " + ap,
                  "x-ESP8266-free-space: %d" % FREE_SPACE,
                  "x-ESP8266-sketch-size: %d" % len(img),
                  "x-ESP8266-sketch-md5: " + md5,
                  "x-ESP8266-chip-size: %d" % CHIP_SIZE,
                  "x-ESP8266-sdk-version: " + SDK["esp8266"],
                  "x-ESP8266-mode: " + a.mode]
        if a.version:
            lines.append("x-ESP8266-version: " + a.version)
    else:
        # esp_partition_get_sha256 of an app: the image's appended SHA-256
        sha = hashlib.sha256(img[:-32]).digest()
        if sha != img[-32:]:
            sha = hashlib.sha256(img).digest()
        lines += ["User-Agent: ESP32-http-Update", "Connection: close",
                  "Cache-Control: no-cache",
                  "x-ESP32-STA-MAC: " + mac,
                  "x-ESP32-AP-MAC: " + ap,
                  "x-ESP32-free-space: %d" % FREE_SPACE,
                  "x-ESP32-sketch-size: %d" % len(img),
                  "x-ESP32-sketch-md5: " + md5,
                  "x-ESP32-sketch-sha256: " + sha.hex().upper(),
                  "x-ESP32-chip-size: %d" % CHIP_SIZE,
                  "x-ESP32-sdk-version: " + SDK["esp32"],
                  "x-ESP32-mode: " + a.mode]
        if a.version:
            lines.append("x-ESP32-version: " + a.version)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def fail(name):
    print("HTTP_UPDATE_FAILED: " + name)
    sys.exit(1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--family", choices=["esp8266", "esp32"], required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--running", required=True)
    p.add_argument("--mac", default="24:0A:C4:12:34:56")
    p.add_argument("--version", default="")
    p.add_argument("--mode", choices=["sketch", "version"], default="sketch")
    p.add_argument("--out")
    p.add_argument("--dump-request")
    a = p.parse_args()
    if a.mode == "version" and a.family != "esp8266":
        p.error("mode version is ESP8266httpUpdate::getAvailableVersion only")
    u = urlsplit(a.url)
    port = u.port or 80
    uri = u.path + ("?" + u.query if u.query else "")
    req = request_bytes(a, u.hostname, port, uri, a.running)
    if a.dump_request:
        open(a.dump_request, "wb").write(req)

    try:
        s = socket.create_connection((u.hostname, port), timeout=8)  # the 8000 ms default
        s.sendall(req)
        raw = b""
        while True:  # HTTP/1.0 and Connection: close: the body ends with the connection
            chunk = s.recv(65536)
            if not chunk:
                break
            raw += chunk
        s.close()
    except OSError as e:
        fail("HTTPC_ERROR_CONNECTION_REFUSED (%s)" % e)

    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        fail("HTTPC_ERROR_CONNECTION_LOST (no end of headers)")
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0]
    try:
        code = int(status_line.split(" ")[1])
    except (IndexError, ValueError):
        fail("HTTPC_ERROR_NO_HTTP_SERVER")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "transfer-encoding" in headers and headers["transfer-encoding"].lower() != "identity":
        fail("HTTPC_ERROR_ENCODING (Transfer-Encoding: %s)" % headers["transfer-encoding"])
    size = int(headers.get("content-length", "-1"))
    print("status: %s" % status_line)
    for k in ("content-length", "x-md5", "x-version"):
        if k in headers:
            print("%s: %s" % (k, headers[k]))

    if a.mode == "version":
        if code == 200 and headers.get("x-version"):
            print("HTTP_UPDATE_OK: server version " + headers["x-version"])
            sys.exit(0)
        if code == 200:
            fail("HTTP_UE_SERVER_NOT_REPORT_VERSION")
    if code == 304:
        print("HTTP_UPDATE_NO_UPDATES")
        sys.exit(3)
    if code == 404:
        fail("HTTP_UE_SERVER_FILE_NOT_FOUND")
    if code == 403:
        fail("HTTP_UE_SERVER_FORBIDDEN")
    if code == 401:
        fail("HTTP_UE_SERVER_UNAUTHORIZED")
    if code != 200:
        fail("HTTP_UE_SERVER_WRONG_HTTP_CODE (%d)" % code)
    if size <= 0:
        fail("HTTP_UE_SERVER_NOT_REPORT_SIZE")
    if size > FREE_SPACE:
        fail("HTTP_UE_TOO_LESS_SPACE")
    if len(body) != size:
        fail("Update.writeStream: %d of %d bytes" % (len(body), size))
    if body[0] != 0xE9 and not (a.family == "esp8266" and body[0] == 0x1F):
        fail("HTTP_UE_BIN_VERIFY_HEADER_FAILED")
    if a.family == "esp8266" and body[0] == 0xE9:
        magic = {0: 512 << 10, 1: 256 << 10, 2: 1 << 20, 3: 2 << 20, 4: 4 << 20,
                 8: 8 << 20, 9: 16 << 20}.get(body[3] >> 4, 0)
        if magic > CHIP_SIZE:
            fail("HTTP_UE_BIN_FOR_WRONG_FLASH")
    if headers.get("x-md5"):
        if len(headers["x-md5"]) != 32:
            fail("HTTP_UE_SERVER_FAULTY_MD5")
        if hashlib.md5(body).hexdigest() != headers["x-md5"].lower():
            fail("UPDATE_ERROR_MD5 (Update.end)")
    if a.out:
        open(a.out, "wb").write(body)
    print("HTTP_UPDATE_OK: %d bytes" % size)
    sys.exit(0)


main()

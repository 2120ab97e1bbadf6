#!/usr/bin/env python3
"""A TLS server for test_tls_close.sh: answers one GET with a 5000-byte body,
then ends the connection the way MODE says, and exits.

  tls_close_server.py CERT KEY MODE PORTFILE
MODE: notify-length  close_notify, then FIN (Content-Length body)
      fin-length     FIN without close_notify (Content-Length body)
      fin-close      FIN without close_notify (body delimited by the close)
"""
import os
import socket
import ssl
import sys

cert, key, mode, portfile = sys.argv[1:5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(1)
listener.settimeout(30)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % listener.getsockname()[1])
os.rename(portfile + ".tmp", portfile)
raw, _ = listener.accept()
tls = ctx.wrap_socket(raw, server_side=True)
request = b""
while b"\r\n\r\n" not in request:
    chunk = tls.recv(4096)
    if not chunk:
        sys.exit(1)
    request += chunk
body = bytes(range(256)) * 19 + bytes(136)  # 5000 bytes
if mode == "fin-close":
    tls.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body)
else:
    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n" + body)
if mode == "notify-length":
    plain = tls.unwrap()  # sends close_notify
else:
    # No SSL_shutdown: the descriptor alone, closed with a bare FIN.
    plain = socket.socket(fileno=tls.detach())
plain.shutdown(socket.SHUT_WR)
plain.close()

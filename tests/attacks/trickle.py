#!/usr/bin/env python3
"""Hold as many trickling HTTP connections to a server as it lets us.

usage: trickle.py HOST PORT COUNT SECONDS SOURCE_ADDR...

Opens COUNT connections (spread over the SOURCE_ADDRs, bound as the client
address), each sending the start of a request and then one more header byte
every second, never finishing the headers. A connection the server closes is
opened again at the next second. Every second it prints
    t=SEC open=N opened=TOTAL closed_by_server=TOTAL
and at the end
    held: max=N mean=N final=N opened=TOTAL closed_by_server=TOTAL
where "open" counts connections the server has not closed.
"""
import errno
import resource
import selectors
import socket
import sys
import time


def main():
    host, port, count, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    sources = sys.argv[5:] or ["127.0.0.1"]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, count + 64)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

    sel = selectors.DefaultSelector()
    conns = {}  # socket -> source
    opened = closed = 0
    start = time.monotonic()

    def open_one(source):
        nonlocal opened
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((source, 0))
            s.setblocking(False)
            try:
                s.connect((host, port))
            except BlockingIOError:
                pass
            sel.register(s, selectors.EVENT_READ)
            conns[s] = source
            opened += 1
        except OSError as e:
            s.close()
            if e.errno not in (errno.EADDRNOTAVAIL, errno.ECONNREFUSED, errno.EMFILE):
                raise

    def drop(s):
        sel.unregister(s)
        del conns[s]
        s.close()

    for i in range(count):
        open_one(sources[i % len(sources)])
    samples = []
    pending = []
    next_tick = start
    tick = 0
    while True:
        now = time.monotonic()
        if now - start >= seconds:
            break
        for key, _ in sel.select(timeout=0.05):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:  # the server closed it (or refused it after accept)
                pending.append(conns[s])
                drop(s)
                closed += 1
        if now >= next_tick:
            # reopen what the server closed, once a second
            while pending:
                open_one(pending.pop())
            # one more byte of a request that never ends
            for s in list(conns):
                try:
                    s.send(b"GET /trickle HTTP/1.1\r\nX: " if tick == 0 else b"a")
                except BlockingIOError:
                    pass
                except OSError:
                    pending.append(conns[s])
                    drop(s)
                    closed += 1
            samples.append(len(conns))
            print("t=%d open=%d opened=%d closed_by_server=%d" % (tick, len(conns), opened, closed),
                  flush=True)
            tick += 1
            next_tick += 1.0
    # what the server still holds: connections it has not closed
    held = len(conns)
    print("held: max=%d mean=%d final=%d opened=%d closed_by_server=%d" % (
        max(samples) if samples else 0, sum(samples) // max(1, len(samples)), held, opened,
        closed), flush=True)


if __name__ == "__main__":
    main()

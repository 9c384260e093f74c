#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A bounded slow-loris client for the metrics endpoint's tests.

    slowloris.py PORT COUNT SECONDS MODE

Keeps COUNT connections open to 127.0.0.1:PORT for SECONDS, then exits.
MODE "trickle": each sends the first line of a request, then one header
line every 2 s, never the blank line that ends the headers.  MODE "silent":
each connects and sends nothing.  A connection the server closes is opened
again at once, as a hostile client would.  Prints "ready" once all COUNT
connections were opened, and at the end "opened N closed_by_server M".
"""
import selectors
import socket
import sys
import time

TRICKLE_EVERY = 2.0


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.due = time.monotonic()  # the request line goes out at once
        self.started = False         # the request line was sent
        self.opened = self.due


def main():
    port, count, seconds, mode = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    if mode not in ("trickle", "silent"):
        sys.exit("slowloris.py: MODE is trickle or silent")
    sel = selectors.DefaultSelector()
    conns = {}
    opened = closed = 0
    pending = 0  # connections to open again
    end = time.monotonic() + seconds

    def connect():
        nonlocal opened
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        sel.register(s, selectors.EVENT_READ)
        conns[s] = Conn(s)
        opened += 1

    def reopen(s, why):
        nonlocal closed, pending
        if closed < 5:  # why the server closed the first ones, for a failing test
            age = time.monotonic() - conns[s].opened
            print(f"closed after {age:.1f}s: {why}", file=sys.stderr, flush=True)
        sel.unregister(s)
        del conns[s]
        s.close()
        closed += 1
        pending += 1

    for _ in range(count):
        connect()
    print("ready", flush=True)
    while time.monotonic() < end:
        if pending:
            time.sleep(0.05)  # a server that closes at once: no busy loop
            for _ in range(pending):
                connect()
            pending = 0
        now = time.monotonic()
        for s, c in list(conns.items()):
            if mode == "silent" or now < c.due:
                continue
            try:
                s.send(b"X-Slow: 1\r\n" if c.started else b"GET /metrics HTTP/1.1\r\n")
                c.started = True
                c.due = now + TRICKLE_EVERY
            except BlockingIOError:
                c.due = now + 0.1  # still connecting
            except OSError as e:
                reopen(s, f"send: {e}")
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError as e:
                reopen(s, f"recv: {e}")
                continue
            if not data:
                reopen(s, "end of file")
            else:
                print(f"answered: {data[:40]!r}", file=sys.stderr, flush=True)
    print(f"opened {opened} closed_by_server {closed}", flush=True)


if __name__ == "__main__":
    main()

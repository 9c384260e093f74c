#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A webhook receiver for the alerts integration test (alerts_tests.sh).

    webhook_receiver.py FILE

Listens on 127.0.0.1, on a port the kernel picks, prints "port N" once it
does, and appends the body of each POST (Alertmanager's JSON, one line) to
FILE, then a newline; answers 200.  Runs until killed.
"""
import http.server
import sys

MAX_BODY = 1 << 20  # an Alertmanager batch is a few KiB


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        try:
            n = int(self.headers.get("Content-Length", ""))
        except ValueError:
            n = -1
        if n < 0 or n > MAX_BODY:
            self.send_error(413 if n > MAX_BODY else 411)
            return
        body = self.rfile.read(n)
        with open(self.server.out_path, "ab") as f:
            f.write(body.rstrip(b"\n") + b"\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *args):
        pass  # the bodies in FILE are the log


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: webhook_receiver.py FILE")
    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    server.out_path = sys.argv[1]
    print("port", server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

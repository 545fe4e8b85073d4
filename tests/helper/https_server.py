#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A small HTTPS file server for the download tests (tests/t/t4030-download.sh).

https_server.py ROOT CERT KEY PORTFILE LOG

Serves the files under ROOT on a free 127.0.0.1 port (written to PORTFILE),
with single "bytes=N-" / "bytes=N-M" Range requests answered 206. Every
request is logged to LOG as one line: "GET /PATH range=HEADER|-".

Faults, read from ROOT/.faults on each request, one "PATH MODE [N]" a line:
  stall N      send N bytes of the body, then nothing (the connection open)
  truncate N   for a request without Range: send N bytes, then close
  lie N        announce N more bytes in Content-Length than are sent
  swap FILE    serve ROOT/FILE instead (another file: a wrong hash)
  status N     answer HTTP status N, no body
"""
import http.server
import os
import re
import socket
import ssl
import sys
import threading
import time


def faults(root, path):
    found = {}
    try:
        with open(os.path.join(root, ".faults")) as f:
            for line in f:
                w = line.split()
                if len(w) >= 2 and w[0] == path:
                    found[w[1]] = w[2] if len(w) > 2 else ""
    except FileNotFoundError:
        pass
    return found


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        root, log = self.server.root, self.server.log
        rng = self.headers.get("Range")
        with self.server.lock, open(log, "a") as f:
            f.write("GET %s range=%s\n" % (self.path, rng or "-"))
        fl = faults(root, self.path)
        if "status" in fl:
            self.send_response(int(fl["status"]))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        name = fl.get("swap", self.path.lstrip("/"))
        fpath = os.path.join(root, name)
        if "/" in name or name.startswith(".") or not os.path.isfile(fpath):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(fpath, "rb") as f:
            data = f.read()
        start, end = 0, len(data) - 1
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng or "")
        if rng and m:
            start = int(m.group(1))
            if m.group(2):
                end = min(int(m.group(2)), end)
            if start > end:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(data))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, len(data)))
        else:
            self.send_response(200)
        body = data[start:end + 1]
        extra = int(fl["lie"]) if "lie" in fl else 0
        self.send_header("Content-Length", str(len(body) + extra))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if "stall" in fl:
            self.wfile.write(body[:int(fl["stall"])])
            self.wfile.flush()
            # hold the connection open, silent, until the client gives up
            while not self.server.stopping:
                time.sleep(0.2)
            return
        if "truncate" in fl and not rng:
            self.wfile.write(body[:int(fl["truncate"])])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)
        if extra:
            self.close_connection = True


def main():
    root, cert, key, portfile, log = sys.argv[1:6]
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.root, srv.log, srv.lock, srv.stopping = root, log, threading.Lock(), False
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(portfile + ".new", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(portfile + ".new", portfile)
    try:
        srv.serve_forever()
    finally:
        srv.stopping = True


if __name__ == "__main__":
    main()

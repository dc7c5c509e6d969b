# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loopback servers that misbehave, for the acgs_health / acgs_hash_check integration tests.

    python3 fault_servers.py start --state STATE.json [--cert PEM]   # daemonizes, writes the ports to STATE.json
    python3 fault_servers.py stop --state STATE.json

Servers (all on 127.0.0.1, spare ports): healthy, error500, invalid_json, slow (0.5 s),
hang (accepts, never answers), reset (RST), closed (a port nothing listens on),
wrong_hash, header_only, health_only, top_level, no_hash, and tls (self-signed) with --cert.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import signal
import socket
import ssl
import struct
import sys
import threading
import time

from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn

HASH = "cdd01ef066bc6cf2"
WRONG = "0000000000000000"
COMPLIANCE = "/api/v1/compliance/status"


def health(name):
    return {"status": "healthy", "service": name, "version": "9.9.9"}


ROUTES = {
    "healthy": {"/health": (200, dict(health("healthy"), constitutional_hash=HASH)),
                COMPLIANCE: (200, {"data": {"constitutional_hash": HASH}})},
    "error500": {"/health": (500, {"status": "unhealthy", "error": "boom"}), COMPLIANCE: (500, b"Internal Server Error")},
    "invalid_json": {"/health": (200, b"<html>all good</html>"), COMPLIANCE: (200, b"{not json")},
    "slow": {"/health": (200, health("slow"), {}, 0.5)},
    "wrong_hash": {"/health": (200, health("wrong")), COMPLIANCE: (200, {"data": {"constitutional_hash": WRONG}})},
    "header_only": {"/health": (200, health("header"), {"X-Constitutional-Hash": HASH})},
    "health_only": {"/health": (200, dict(health("hb"), constitutional_hash=HASH))},
    "top_level": {COMPLIANCE: (200, {"constitutional_hash": HASH, "status": "success"}), "/health": (200, health("tl"))},
    "no_hash": {"/health": (200, health("none")), COMPLIANCE: (200, {"data": {}})},
}


class _Server(ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def http_server(routes, context=None):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args):  # pylint: disable=arguments-differ
            pass

        def do_GET(self):  # pylint: disable=invalid-name
            route = routes.get(self.path.split("?")[0])
            status, body, headers, delay = (tuple(route) + ({}, 0))[:4] if route else (404, {"error": "not found"}, {}, 0)
            if delay:
                time.sleep(delay)
            raw = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(raw)

    server = _Server(("127.0.0.1", 0), Handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever)
    thread.daemon = True
    thread.start()
    return server.server_address[1]


def raw_server(mode):
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    held = []

    def serve():
        while True:
            conn, _addr = sock.accept()
            if mode == "hang":
                held.append(conn)
                continue
            try:
                conn.recv(1024)
            except OSError:
                pass
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    thread = threading.Thread(target=serve)
    thread.daemon = True
    thread.start()
    return sock.getsockname()[1]


def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def serve(state, cert):
    ports = dict((name, http_server(routes)) for name, routes in ROUTES.items())
    ports["hang"] = raw_server("hang")
    ports["reset"] = raw_server("reset")
    ports["closed"] = closed_port()
    if cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert)
        ports["tls"] = http_server(ROUTES["healthy"], context)
    ports["pid"] = os.getpid()
    tmp = state + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(ports, handle)
    os.rename(tmp, state)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    stop.wait()


def start(args):
    if os.path.exists(args.state):
        os.unlink(args.state)
    pid = os.fork()
    if pid == 0:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        try:
            serve(args.state, args.cert)
        finally:
            os._exit(0)
    deadline = time.time() + 15
    while time.time() < deadline:
        if os.path.exists(args.state):
            with open(args.state) as handle:
                sys.stdout.write(handle.read())
            return 0
        time.sleep(0.05)
    os.kill(pid, signal.SIGTERM)
    sys.stderr.write("fault servers did not start\n")
    return 1


def stop(args):
    try:
        with open(args.state) as handle:
            pid = json.load(handle)["pid"]
    except (IOError, OSError, ValueError, KeyError):
        return 0
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        pass
    os.unlink(args.state)
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--state", required=True)
    parser.add_argument("--cert")
    args = parser.parse_args()
    return start(args) if args.action == "start" else stop(args)


if __name__ == "__main__":
    sys.exit(main())

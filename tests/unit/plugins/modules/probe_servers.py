# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loopback servers the probe tests start themselves: each misbehaves in one way."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import socket
import struct
import subprocess
import threading
import time

from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on (bound, then released)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def listening(host, port, timeout=0.5):
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except (OSError, socket.timeout):
        return False


class _Server(ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 drops concurrent probes' SYNs under load.
    request_queue_size = 128


class JsonServer(object):
    """HTTP server whose routes map a path to (status, body, headers, delay_seconds).

    ``body`` is sent as JSON unless it is bytes.
    """

    def __init__(self, routes, tls_cert=None):
        self.routes = routes
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):  # pylint: disable=arguments-differ
                pass

            def do_GET(self):  # pylint: disable=invalid-name
                route = outer.routes.get(self.path.split("?")[0])
                if route is None:
                    status, body, headers, delay = 404, {"error": "not found"}, {}, 0
                else:
                    status, body, headers, delay = (tuple(route) + ({}, 0))[:4]
                if delay:
                    time.sleep(delay)
                raw = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(raw)

        self.server = _Server(("127.0.0.1", 0), Handler)
        if tls_cert:
            import ssl
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls_cert)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = "%s://127.0.0.1:%d" % ("https" if tls_cert else "http", self.port)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.daemon = True

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class RawServer(object):
    """TCP server that does ``mode`` with each connection.

    ``hang``: accept and never answer; ``reset``: accept then reset (RST);
    ``close``: accept then close without a byte.
    """

    def __init__(self, mode):
        self.mode = mode
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.held = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve)
        self.thread.daemon = True

    def _serve(self):
        self.sock.settimeout(0.1)
        while not self.stopped.is_set():
            try:
                conn, _addr = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            if self.mode == "hang":
                self.held.append(conn)
            elif self.mode == "reset":
                try:
                    conn.recv(1024)
                except OSError:
                    pass
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
            else:
                conn.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join(2)
        for conn in self.held:
            conn.close()
        self.sock.close()


def self_signed_cert(directory, name="localhost"):
    """A self-signed certificate and key in one PEM file, made with the openssl CLI."""
    path = os.path.join(str(directory), "%s.pem" % name)
    key = os.path.join(str(directory), "%s.key" % name)
    crt = os.path.join(str(directory), "%s.crt" % name)
    subprocess.check_call(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
         "-days", "2", "-subj", "/CN=%s" % name, "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(path, "w") as out:
        for part in (crt, key):
            with open(part) as handle:
                out.write(handle.read())
    return path, crt


class RedisServer(object):
    """A real redis-server on a spare loopback port, with a password."""

    def __init__(self, password, directory):
        self.binary = shutil.which("redis-server")
        self.password = password
        self.directory = str(directory)
        self.port = free_port()
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--requirepass", self.password,
             "--save", "", "--appendonly", "no", "--dir", self.directory, "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not listening("127.0.0.1", self.port):
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(10)


class NatsServer(object):
    """A real nats-server (JetStream on) on a spare loopback port."""

    def __init__(self, directory, jetstream=True, token=None):
        self.binary = shutil.which("nats-server")
        self.directory = str(directory)
        self.port = free_port()
        self.jetstream = jetstream
        self.token = token
        self.proc = None

    def __enter__(self):
        cmd = [self.binary, "-a", "127.0.0.1", "-p", str(self.port)]
        if self.jetstream:
            cmd += ["-js", "-sd", self.directory]
        if self.token:
            cmd += ["--auth", self.token]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not listening("127.0.0.1", self.port):
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(10)

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loopback servers that misbehave, each in one way: the one implementation of the
probe test fixtures. Standard library only, so that it serves three callers:

* unit tests import it:
  ``from ansible_collections.acgs.platform.tests.unit.plugins.test_support.fault_servers import JsonServer``;
* the integration target ``setup_fault_servers`` runs it as a script (its alias
  ``needs/file/tests/unit/plugins/test_support/fault_servers.py`` makes ansible-test
  copy this file beside the targets)::

      python3 fault_servers.py start --dir DIR --hash HASH [--lifetime SECONDS]
      python3 fault_servers.py stop --dir DIR

  ``start`` daemonizes the set of ``FAULTS`` below (plus ``hang``, ``reset``, a
  ``closed`` port and ``tls``, a healthy server with a self-signed certificate made in
  DIR) and prints ``{"pid": ..., "ca_file": DIR/localhost.crt, "ports": {name: port}}``
  (also written to DIR/state.json, which ``stop`` reads);
* benchmarks/health_probe.py loads it by path and serves slow ``/health`` endpoints
  with ``JsonServer``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback

from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn

COMPLIANCE = "/api/v1/compliance/status"
WRONG_HASH = "0000000000000000"


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on (bound, then released)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def listening(host, port, timeout=0.5):
    """True when something accepts TCP connections on host:port."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except (OSError, socket.timeout):
        return False


def wait_listening(port, proc, timeout=10.0):
    """Poll until ``proc`` listens on ``port``; False when it exits or the time is up."""
    deadline = time.monotonic() + timeout
    while not listening("127.0.0.1", port):
        if proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def health_body(name, version="9.9.9", **extra):
    """A /health answer of the ACGS service contract."""
    body = {"status": "healthy", "service": name, "version": version}
    body.update(extra)
    return body


def fault_routes(expected_hash):
    """The HTTP fault servers by name: routes as ``JsonServer`` takes them."""
    return {
        "healthy": {"/health": (200, health_body("healthy", constitutional_hash=expected_hash)),
                    COMPLIANCE: (200, {"data": {"constitutional_hash": expected_hash}})},
        "error500": {"/health": (500, {"status": "unhealthy", "error": "boom"}), COMPLIANCE: (500, b"Internal Server Error")},
        "invalid_json": {"/health": (200, b"<html>all good</html>"), COMPLIANCE: (200, b"{not json")},
        "slow": {"/health": (200, health_body("slow"), {}, 0.5)},
        "wrong_hash": {"/health": (200, health_body("wrong")), COMPLIANCE: (200, {"data": {"constitutional_hash": WRONG_HASH}})},
        "header_only": {"/health": (200, health_body("header"), {"X-Constitutional-Hash": expected_hash})},
        "health_only": {"/health": (200, health_body("hb", constitutional_hash=expected_hash))},
        "top_level": {COMPLIANCE: (200, {"constitutional_hash": expected_hash, "status": "success"}), "/health": (200, health_body("tl"))},
        "no_hash": {"/health": (200, health_body("none")), COMPLIANCE: (200, {"data": {}})},
    }


class _Server(ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 drops concurrent probes' SYNs under load.
    request_queue_size = 128


class JsonServer(object):
    """HTTP server whose routes map a path to (status, body, headers, delay_seconds).

    ``body`` is sent as JSON unless it is bytes; an unknown path answers 404. ``most_in_flight`` is the
    most requests it was answering at once: what shows that a client asks concurrently, whatever the load
    of the machine (a wall-clock bound does not).
    """

    def __init__(self, routes, tls_cert=None):
        self.routes = routes
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
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
                with outer.lock:
                    outer.in_flight += 1
                    outer.most_in_flight = max(outer.most_in_flight, outer.in_flight)
                try:
                    if delay:
                        time.sleep(delay)  # the fault this route plays: a slow answer
                finally:
                    with outer.lock:
                        outer.in_flight -= 1
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
        self.sock.listen(128)
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
    """A self-signed certificate for localhost/127.0.0.1, made with the openssl CLI.

    Returns (PEM file with certificate and key, certificate file).
    """
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


class _Daemon(object):
    """A real server binary on a spare loopback port, stopped on exit."""

    def __init__(self, binary, directory):
        self.binary = shutil.which(binary)
        self.directory = str(directory)
        self.port = free_port()
        self.proc = None

    def command(self):
        raise NotImplementedError

    def __enter__(self):
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(self.port, self.proc)
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(10)


class RedisServer(_Daemon):
    """A real redis-server on a spare loopback port, with a password."""

    def __init__(self, password, directory):
        super(RedisServer, self).__init__("redis-server", directory)
        self.password = password

    def command(self):
        return [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--requirepass", self.password,
                "--save", "", "--appendonly", "no", "--dir", self.directory, "--daemonize", "no"]


class NatsServer(_Daemon):
    """A real nats-server (JetStream on) on a spare loopback port."""

    def __init__(self, directory, jetstream=True, token=None):
        super(NatsServer, self).__init__("nats-server", directory)
        self.jetstream = jetstream
        self.token = token

    def command(self):
        cmd = [self.binary, "-a", "127.0.0.1", "-p", str(self.port)]
        if self.jetstream:
            cmd += ["-js", "-sd", self.directory]
        if self.token:
            cmd += ["--auth", self.token]
        return cmd


# --- script mode: the fault servers as one daemon (setup_fault_servers) ---------------

def _serve_faults(directory, expected_hash, lifetime, ready):
    """Start every fault server, report the state through ``ready``, serve until SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    pem, crt = self_signed_cert(directory)
    with contextlib.ExitStack() as stack:
        ports = dict((name, stack.enter_context(JsonServer(routes)).port)
                     for name, routes in fault_routes(expected_hash).items())
        ports["tls"] = stack.enter_context(JsonServer(fault_routes(expected_hash)["healthy"], tls_cert=pem)).port
        ports["hang"] = stack.enter_context(RawServer("hang")).port
        ports["reset"] = stack.enter_context(RawServer("reset")).port
        ports["closed"] = free_port()
        state = {"pid": os.getpid(), "ca_file": crt, "ports": ports}
        state_file = os.path.join(directory, "state.json")
        with open(state_file + ".tmp", "w") as handle:
            json.dump(state, handle)
        os.rename(state_file + ".tmp", state_file)
        ready(state)
        # Until stop_faults() (SIGTERM); a run that dies before calling it leaves
        # the servers behind for ``lifetime`` seconds at the most.
        stop.wait(lifetime)


def start_faults(directory, expected_hash, lifetime=None):
    """Daemonize the fault servers; return their state once they all listen."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the daemon
        os.close(read_end)
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        report = os.fdopen(write_end, "w")

        def ready(state):
            report.write(json.dumps(state))
            report.close()

        try:
            _serve_faults(directory, expected_hash, lifetime, ready)
        except Exception:  # pylint: disable=broad-except
            if not report.closed:
                report.write(json.dumps({"error": traceback.format_exc()}))
                report.close()
        finally:
            os._exit(0)  # pylint: disable=protected-access
    os.close(write_end)
    with os.fdopen(read_end) as report:
        text = report.read()  # EOF when the daemon is ready or has died
    state = json.loads(text) if text else {"error": "the fault servers exited before they were ready"}
    if "error" in state:
        raise RuntimeError(state["error"])
    return state


def stop_faults(directory, timeout=10.0):
    """Stop the daemon that start_faults() left in ``directory``; True when one was stopped."""
    state_file = os.path.join(directory, "state.json")
    try:
        with open(state_file) as handle:
            pid = json.load(handle)["pid"]
    except (IOError, OSError, ValueError, KeyError):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        pid = None
    deadline = time.monotonic() + timeout
    while pid is not None and time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            break
        time.sleep(0.02)
    os.unlink(state_file)
    return pid is not None


def main(argv=None):
    parser = argparse.ArgumentParser(description="Loopback fault servers for the acgs.platform tests.")
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", required=True, help="work directory: certificate and state.json")
    parser.add_argument("--hash", help="the constitutional hash the well-behaved servers report (start)")
    parser.add_argument("--lifetime", type=float, help="seconds after which the servers stop on their own (start)")
    args = parser.parse_args(argv)
    if args.action == "stop":
        print(json.dumps({"stopped": stop_faults(args.dir)}))
        return 0
    if not args.hash:
        parser.error("start needs --hash")
    try:
        state = start_faults(args.dir, args.hash, args.lifetime)
    except RuntimeError as exc:
        sys.stderr.write("fault servers did not start: %s\n" % exc)
        return 1
    print(json.dumps(state))
    return 0


if __name__ == "__main__":
    sys.exit(main())

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the reference ACGS service (roles/services/files/acgs_service.py).

Pure logic is tested in-process; behaviour is tested on real loopback sockets
against the service run as a process, with Redis, NATS and HTTP peers played by
tiny loopback servers defined here. Real PostgreSQL is exercised by Molecule.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import http.client
import http.server
import importlib.util
import json
import os
import re
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time

import shutil

import pytest

from ansible_collections.acgs.platform.plugins.module_utils.catalog import CONSTITUTIONAL_HASH
from ansible_collections.acgs.platform.tests.unit.plugins.test_support.fault_servers import RedisServer, free_port

SERVICE_PATH = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'roles', 'services', 'files', 'acgs_service.py'))
HASH = CONSTITUTIONAL_HASH


def _load_service_module():
    spec = importlib.util.spec_from_file_location("acgs_reference_service", SERVICE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


acgs = _load_service_module()


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def poll(predicate, timeout=10.0, interval=0.02, what="condition"):
    """Call predicate until it returns something truthy; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def get(port, path, method="GET"):
    """One request on a fresh connection: (status, headers dict, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


def get_json(port, path):
    status, headers, body = get(port, path)
    return status, headers, json.loads(body.decode("utf-8"))


def health_when(port, predicate):
    """GET /health; the (status, headers, body) when predicate holds for it, else None."""
    result = get_json(port, "/health")
    return result if predicate(result) else None


def read_response(sock):
    """Read one HTTP response from a raw socket: (status, headers, body), or None at EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _sep, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _sep, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    assert len(rest) == length, "short body and more than one response in one read is not expected here"
    return status, headers, rest


def metric_value(text, name, **labels):
    """The value of one sample of a Prometheus text exposition, or None."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, _sep, value = line.rpartition(" ")
        if series.split("{", 1)[0] != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', series))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return None


def base_config(**overrides):
    config = {
        "name": "auth-service", "version": "0.1.0", "listen_host": "127.0.0.1", "listen_port": 0,
        "constitutional_hash": HASH, "check_interval": 0.1, "check_timeout": 1.0, "drain_seconds": 10,
        "dependencies": [], "faults": {"latency_ms": 0, "error_rate": 0.0, "wrong_hash": False, "ignore_sigterm": False},
    }
    config.update(overrides)
    return config


class ServiceProcess:
    """The service run as `python acgs_service.py --config FILE` on a free port."""

    def __init__(self, directory, config, env=None):
        self.config_path = os.path.join(str(directory), "service-%d.json" % id(self))
        self.write_config(config)
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen([sys.executable, SERVICE_PATH, "--config", self.config_path],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     env=dict(os.environ, **(env or {})))
        self.reader = threading.Thread(target=self._read_stderr, daemon=True)
        self.reader.start()
        match = self.wait_log(r"started \S+ \S+ on 127\.0\.0\.1:(\d+)")
        self.port = int(match.group(1))

    def write_config(self, config):
        with open(self.config_path, "w") as handle:
            json.dump(config, handle)

    def _read_stderr(self):
        for raw in self.proc.stderr:
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # EOF marker
            self.cond.notify_all()

    def log_text(self):
        with self.cond:
            return "\n".join(line for line in self.lines if line is not None)

    def wait_log(self, pattern, timeout=10.0):
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    if line is not None and regex.search(line):
                        return regex.search(line)
                if None in self.lines:
                    raise AssertionError("service exited (rc=%s) before logging %r:\n%s" % (self.proc.wait(), pattern, self.log_text()))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("no log line matching %r within %.1fs:\n%s" % (pattern, timeout, self.log_text()))
                self.cond.wait(remaining)

    def wait_exit(self, timeout=10.0):
        return self.proc.wait(timeout=timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.reader.join(timeout=5)
        self.proc.stderr.close()


@pytest.fixture
def start_service(tmp_path):
    started = []

    def start(config, env=None):
        service = ServiceProcess(tmp_path, config, env)
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client (the service) may be killed mid-check: a reset is not a test failure.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakePeer:
    """A loopback TCP server run in a thread; restartable on the same port."""

    def __init__(self, handler, port=0, **attrs):
        self.handler = handler
        self.attrs = attrs
        self.port = port
        self.server = None
        self.thread = None
        self.start()

    def start(self):
        self.server = _Server(("127.0.0.1", self.port), self.handler)
        for key, value in self.attrs.items():
            setattr(self.server, key, value)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=5)
            self.server = None


@pytest.fixture
def peers():
    made = []

    def make(handler, **attrs):
        peer = FakePeer(handler, **attrs)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        peer.stop()


class RedisHandler(socketserver.StreamRequestHandler):
    """Speaks enough RESP for AUTH and PING; server.password, server.silent."""

    def read_command(self):
        line = self.rfile.readline()
        if not line.startswith(b"*"):
            return None
        args = []
        for _attempt in range(int(line[1:])):
            size = int(self.rfile.readline()[1:])
            args.append(self.rfile.read(size + 2)[:-2].decode("utf-8"))
        return args

    def handle(self):
        if getattr(self.server, "silent", False):
            self.rfile.read()  # never answer; wait for the client to give up
            return
        password = getattr(self.server, "password", None)
        authed = password is None
        while True:
            args = self.read_command()
            if args is None:
                return
            command = args[0].upper()
            if command == "AUTH":
                if args[-1] == password:
                    authed = True
                    self.wfile.write(b"+OK\r\n")
                else:
                    self.wfile.write(b"-WRONGPASS invalid username-password pair or user is disabled.\r\n")
            elif not authed:
                self.wfile.write(b"-NOAUTH Authentication required.\r\n")
            elif command == "PING":
                self.wfile.write(b"+PONG\r\n")
            else:
                self.wfile.write(b"-ERR unknown command\r\n")


class NatsHandler(socketserver.StreamRequestHandler):
    """Sends INFO, records CONNECT, answers PING; server.jetstream, server.connects."""

    def handle(self):
        info = {"server_id": "FAKE", "version": "2.10.0", "proto": 1, "max_payload": 1048576,
                "jetstream": getattr(self.server, "jetstream", False)}
        self.wfile.write(b"INFO " + json.dumps(info).encode("utf-8") + b"\r\n")
        for line in self.rfile:
            if line.startswith(b"CONNECT "):
                self.server.connects.append(json.loads(line[8:].decode("utf-8")))
            elif line.startswith(b"PING"):
                self.wfile.write(b"PONG\r\n")


class HttpPeerHandler(http.server.BaseHTTPRequestHandler):
    """Answers every GET with server.status_code."""

    def do_GET(self):  # pylint: disable=invalid-name
        body = b'{"ok":true}'
        self.send_response(self.server.status_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


class FakeHttp:
    def __init__(self, status_code=200):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HttpPeerHandler)
        self.server.daemon_threads = True
        self.server.status_code = status_code
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def http_peer():
    made = []

    def make(status_code=200):
        peer = FakeHttp(status_code)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        peer.stop()


# ---------------------------------------------------------------------------
# pure logic
# ---------------------------------------------------------------------------

def test_validate_config_fills_defaults():
    config = acgs.validate_config({"name": "fv-service", "listen_port": 18003, "constitutional_hash": HASH.upper()})
    assert config["version"] == "0.1.0"
    assert config["listen_host"] == "127.0.0.1"
    assert config["constitutional_hash"] == HASH
    assert config["check_interval"] == 1.0 and config["check_timeout"] == 2.0 and config["drain_seconds"] == 10
    assert config["dependencies"] == []
    assert config["faults"] == {"latency_ms": 0.0, "error_rate": 0.0, "wrong_hash": False, "ignore_sigterm": False}


def test_validate_config_accepts_the_role_shape():
    config = acgs.validate_config({
        "name": "auth-service", "version": "0.1.0", "listen_host": "127.0.0.1", "listen_port": 18000,
        "constitutional_hash": HASH, "check_interval": 1.0, "check_timeout": 2.0, "drain_seconds": 10,
        "dependencies": [
            {"name": "postgresql", "type": "postgresql", "required": True, "host": "127.0.0.1", "port": 15432,
             "login_db": "acgs", "login_user": "acgs", "login_password": "secret"},
            {"name": "redis", "type": "redis", "required": True, "host": "127.0.0.1", "port": 16379, "login_password": "secret"},
            {"name": "nats", "type": "nats", "required": True, "host": "127.0.0.1", "port": 14222},
            {"name": "opa", "type": "http", "required": False, "url": "http://127.0.0.1:8181/health"},
        ],
        "faults": {"latency_ms": 0, "error_rate": 0.0, "wrong_hash": False, "ignore_sigterm": False},
    })
    deps = {d["name"]: d for d in config["dependencies"]}
    assert deps["postgresql"]["login_password"] == "secret" and deps["postgresql"]["login_db"] == "acgs"
    assert deps["redis"]["login_user"] is None
    assert deps["nats"]["port"] == 14222 and deps["nats"]["required"] is True
    assert deps["opa"] == {"name": "opa", "type": "http", "required": False, "url": "http://127.0.0.1:8181/health"}


@pytest.mark.parametrize("change, key", [
    ({"name": None}, "'name'"),
    ({"listen_port": "8000"}, "'listen_port'"),
    ({"listen_port": 70000}, "'listen_port'"),
    ({"listen_port": True}, "'listen_port'"),
    ({"listen_prot": 8000}, "'listen_prot'"),
    ({"check_interval": 0}, "'check_interval'"),
    ({"check_timeout": "2"}, "'check_timeout'"),
    ({"drain_seconds": -1}, "'drain_seconds'"),
    ({"constitutional_hash": "not-a-hash"}, "'constitutional_hash'"),
    ({"constitutional_hash": None}, "'constitutional_hash'"),
    ({"faults": {"error_rate": 1.5}}, "'faults.error_rate'"),
    ({"faults": {"latency_ms": -5}}, "'faults.latency_ms'"),
    ({"faults": {"wrong_hash": "yes"}}, "'faults.wrong_hash'"),
    ({"faults": {"latency": 5}}, "'faults.latency'"),
    ({"faults": []}, "'faults'"),
    ({"dependencies": {"redis": {}}}, "'dependencies'"),
    ({"dependencies": [{"name": "db", "type": "mysql"}]}, "'dependencies[0].type'"),
    ({"dependencies": [{"name": "r", "type": "redis", "prot": 1}]}, "'dependencies[0].prot'"),
    ({"dependencies": [{"name": "r", "type": "redis", "host": "h", "port": 0}]}, "'dependencies[0].port'"),
    ({"dependencies": [{"name": "r", "type": "redis", "port": 1}]}, "'dependencies[0].host'"),
    ({"dependencies": [{"name": "r", "type": "redis", "host": "h"}]}, "'dependencies[0].port'"),
    ({"dependencies": [{"name": "r", "type": "redis", "host": "h", "port": 1, "password": "x"}]}, "'dependencies[0].password'"),
    ({"dependencies": [{"name": "r", "type": "redis", "required": "yes"}]}, "'dependencies[0].required'"),
    ({"dependencies": [{"type": "nats"}]}, "'dependencies[0].name'"),
    ({"dependencies": [{"name": "opa", "type": "http", "url": "ftp://x/health"}]}, "'dependencies[0].url'"),
    ({"dependencies": [{"name": "opa", "type": "http"}]}, "'dependencies[0].url'"),
    ({"dependencies": [{"name": "a", "type": "nats", "host": "h", "port": 1},
                       {"name": "a", "type": "redis", "host": "h", "port": 2}]}, "'dependencies[1].name'"),
])
def test_validate_config_names_the_bad_key(change, key):
    raw = {"name": "auth-service", "listen_port": 18000, "constitutional_hash": HASH}
    raw.update(change)
    for required in ("name", "constitutional_hash"):
        if required in change and change[required] is None:
            del raw[required]
    with pytest.raises(acgs.ConfigError) as info:
        acgs.validate_config(raw)
    assert key in str(info.value)


def test_validate_config_empty_credentials_mean_none():
    config = acgs.validate_config({"name": "a", "listen_port": 1, "constitutional_hash": HASH, "dependencies": [
        {"name": "redis", "type": "redis", "host": "h", "port": 1, "login_password": ""},
        {"name": "nats", "type": "nats", "host": "h", "port": 2, "login_user": None}]})
    assert config["dependencies"][0]["login_password"] is None and config["dependencies"][1]["login_user"] is None


def test_validate_config_rejects_a_non_object():
    with pytest.raises(acgs.ConfigError, match="top level"):
        acgs.validate_config(["name"])


def test_validate_config_cache_defaults_and_its_redis_dependency():
    redis = {"name": "redis", "type": "redis", "host": "h", "port": 1}
    nats = {"name": "nats", "type": "nats", "host": "h", "port": 2}
    raw = {"name": "a", "listen_port": 1, "constitutional_hash": HASH}
    # No Redis dependency: no cache, whatever the section says.
    assert acgs.validate_config(dict(raw, dependencies=[nats]))["cache"] == {
        "ttl": 5.0, "timeout": 0.2, "pool_size": 2, "dependency": None}
    # A Redis dependency: the cache uses the first one, or the one named.
    other = dict(redis, name="redis-b", port=3)
    assert acgs.validate_config(dict(raw, dependencies=[nats, redis, other]))["cache"]["dependency"] == "redis"
    cache = acgs.validate_config(dict(raw, dependencies=[redis, other], cache={"dependency": "redis-b", "ttl": 1, "pool_size": 4}))["cache"]
    assert cache == {"ttl": 1.0, "timeout": 0.2, "pool_size": 4, "dependency": "redis-b"}
    # ttl 0 turns it off.
    assert acgs.validate_config(dict(raw, dependencies=[redis], cache={"ttl": 0}))["cache"]["dependency"] is None


@pytest.mark.parametrize("cache, key", [
    ({"ttl": -1}, "'cache.ttl'"),
    ({"ttl": "5"}, "'cache.ttl'"),
    ({"timeout": 0}, "'cache.timeout'"),
    ({"pool_size": 0}, "'cache.pool_size'"),
    ({"pool_size": 2.5}, "'cache.pool_size'"),
    ({"pool_size": True}, "'cache.pool_size'"),
    ({"dependency": "nats"}, "'cache.dependency'"),
    ({"dependency": "elsewhere"}, "'cache.dependency'"),
    ({"tll": 5}, "'cache.tll'"),
    ([], "'cache'"),
])
def test_validate_config_cache_names_the_bad_key(cache, key):
    raw = {"name": "a", "listen_port": 1, "constitutional_hash": HASH, "cache": cache, "dependencies": [
        {"name": "redis", "type": "redis", "host": "h", "port": 1}, {"name": "nats", "type": "nats", "host": "h", "port": 2}]}
    with pytest.raises(acgs.ConfigError) as info:
        acgs.validate_config(raw)
    assert key in str(info.value)
    if key == "'cache.dependency'":
        assert "redis dependencies: redis" in str(info.value)


@pytest.mark.parametrize("data, value, end", [
    (b"+OK\r\n", b"OK", 5),
    (b":42\r\n", 42, 5),
    (b"$5\r\nhello\r\n", b"hello", 11),
    (b"$0\r\n\r\n", b"", 6),
    (b"$-1\r\n", None, 5),
    (b"$4\r\na\r\nb\r\n", b"a\r\nb", 10),  # a bulk string may hold CRLF
    (b"*2\r\n$1\r\na\r\n:7\r\n", [b"a", 7], 15),
    (b"*-1\r\n", None, 5),
    (b"*0\r\n", [], 4),
])
def test_parse_reply_values(data, value, end):
    assert acgs.parse_reply(data) == (value, end)
    assert acgs.parse_reply(bytearray(b"+X\r\n" + data), 4) == (value, end + 4)
    # Every proper prefix is incomplete, never a wrong value.
    for cut in range(len(data)):
        assert acgs.parse_reply(data[:cut]) is None


def test_parse_reply_errors_and_pipelines():
    value, end = acgs.parse_reply(b"-WRONGPASS invalid username-password pair\r\n+OK\r\n")
    assert isinstance(value, acgs.RedisReplyError) and str(value) == "WRONGPASS invalid username-password pair"
    assert acgs.describe_error(value) == "WRONGPASS invalid username-password pair"
    assert acgs.parse_reply(b"-WRONGPASS invalid username-password pair\r\n+OK\r\n", end) == (b"OK", end + 5)
    for bad in (b"?what\r\n", b"$x\r\n", b":1.5\r\n", b"$2\r\nabcd\r\n"):
        with pytest.raises(ValueError):
            acgs.parse_reply(bad)


def test_metrics_render_cache_counters_only_with_a_cache():
    metrics = acgs.Metrics()
    assert "acgs_cache" not in metrics.render("s", "1.0", HASH, HASH, True, {})
    cache = {"hits": 90, "misses": 7, "errors": {"get": 3, "set": 1}, "connections": 2}
    text = metrics.render("auth-service", "1.0", HASH, HASH, True, {}, cache=cache)
    assert metric_value(text, "acgs_cache_hits_total", service="auth-service") == 90
    assert metric_value(text, "acgs_cache_misses_total", service="auth-service") == 7
    assert metric_value(text, "acgs_cache_errors_total", service="auth-service", operation="get") == 3
    assert metric_value(text, "acgs_cache_errors_total", service="auth-service", operation="set") == 1
    assert metric_value(text, "acgs_cache_connections", service="auth-service") == 2
    for name, kind in (("acgs_cache_hits_total", "counter"), ("acgs_cache_misses_total", "counter"),
                       ("acgs_cache_errors_total", "counter"), ("acgs_cache_connections", "gauge")):
        assert "# TYPE %s %s\n" % (name, kind) in text


def test_wrong_hash_is_valid_looking_and_different():
    wrong = acgs.wrong_hash_for(HASH)
    assert wrong != HASH
    assert re.match(r"^[0-9a-f]{16}$", wrong)
    assert acgs.wrong_hash_for(HASH) == wrong
    assert len(acgs.wrong_hash_for("a" * 64)) == 64


def test_parse_request_complete_incomplete_and_pipelined():
    assert acgs.parse_request(b"GET /health HTTP/1.1\r\nHost: x\r\n") is None
    one = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    two = b"POST /metrics?x=1 HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody"
    assert acgs.parse_request(one + two) == (len(one), "GET", "/health", True)
    assert acgs.parse_request(two[:-1]) is None
    assert acgs.parse_request(two) == (len(two), "POST", "/metrics?x=1", True)


@pytest.mark.parametrize("head, keep_alive", [
    (b"GET / HTTP/1.1\r\nConnection: close", False),
    (b"GET / HTTP/1.1\r\nconnection: Keep-Alive, Upgrade", True),
    (b"GET / HTTP/1.0", False),
    (b"GET / HTTP/1.0\r\nConnection: keep-alive", True),
])
def test_parse_request_keep_alive(head, keep_alive):
    assert acgs.parse_request(head + b"\r\n\r\n")[3] is keep_alive


def test_parse_request_absolute_form():
    assert acgs.parse_request(b"GET http://127.0.0.1:8000/health HTTP/1.1\r\n\r\n")[2] == "/health"


@pytest.mark.parametrize("data, status", [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /health HTTP/2.0\r\n\r\n", 505),
    (b"get /health HTTP/1.1\r\n\r\n", 400),
    (b"GET /health HTTP/1.1\r\nno-colon\r\n\r\n", 400),
    (b"GET /health HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
    (b"GET /health HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413),
    (b"GET /health HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
    (b"GET /health HTTP/1.1\r\nX: " + b"a" * 70000, 431),
])
def test_parse_request_errors(data, status):
    with pytest.raises(acgs.HttpError) as info:
        acgs.parse_request(data)
    assert info.value.status == status


def test_redis_command_encoding():
    assert acgs.redis_command("PING") == b"*1\r\n$4\r\nPING\r\n"
    assert acgs.redis_command("AUTH", "us", "p\u00e4ss") == b"*3\r\n$4\r\nAUTH\r\n$2\r\nus\r\n$5\r\np\xc3\xa4ss\r\n"


def test_describe_error():
    assert acgs.describe_error(ConnectionRefusedError(111, "Connection refused")) == "ConnectionRefusedError: [Errno 111] Connection refused"
    assert acgs.describe_error(acgs.DependencyError("HTTP 500")) == "HTTP 500"
    assert acgs.describe_error(ValueError("first line\nsecond line")) == "ValueError: first line"


def test_metrics_render_histogram_and_labels():
    metrics = acgs.Metrics()
    metrics.observe("GET", "/health", 200, 0.0004)
    metrics.observe("GET", "/health", 200, 0.005)
    metrics.observe("GET", "/health", 503, 0.3)
    metrics.observe("GET", "other", 404, 20.0)
    deps = {"redis": {"status": "up"}, "nats": {"status": "down"}}
    text = metrics.render('odd"name', "1.0", "ffffffffffffffff", HASH, False, deps, in_flight=3)
    svc = 'odd\\"name'
    assert metric_value(text, "acgs_service_up", service=svc) == 0
    assert metric_value(text, "acgs_constitutional_compliance", service=svc) == 0
    assert metric_value(text, "acgs_dependency_up", dependency="redis") == 1
    assert metric_value(text, "acgs_dependency_up", dependency="nats") == 0
    assert metric_value(text, "acgs_requests_in_flight") == 3
    assert metric_value(text, "acgs_requests_total", method="GET", endpoint="/health", status="200") == 2
    assert metric_value(text, "acgs_requests_total", method="GET", endpoint="/health", status="503") == 1
    assert metric_value(text, "acgs_errors_total", endpoint="/health") == 1
    assert metric_value(text, "acgs_errors_total", endpoint="other") == 0
    bucket = "acgs_response_time_seconds_bucket"
    assert metric_value(text, bucket, endpoint="/health", le="0.001") == 1
    assert metric_value(text, bucket, endpoint="/health", le="0.005") == 2  # le is inclusive
    assert metric_value(text, bucket, endpoint="/health", le="0.25") == 2
    assert metric_value(text, bucket, endpoint="/health", le="0.5") == 3
    assert metric_value(text, bucket, endpoint="/health", le="+Inf") == 3
    assert metric_value(text, bucket, endpoint="other", le="10.0") == 0
    assert metric_value(text, bucket, endpoint="other", le="+Inf") == 1
    assert metric_value(text, "acgs_response_time_seconds_count", endpoint="/health") == 3
    assert metric_value(text, "acgs_response_time_seconds_sum", endpoint="/health") == pytest.approx(0.3054)
    for name, kind in (("acgs_service_up", "gauge"), ("acgs_requests_total", "counter"), ("acgs_errors_total", "counter"),
                       ("acgs_response_time_seconds", "histogram"), ("acgs_constitutional_compliance", "gauge"),
                       ("acgs_dependency_up", "gauge")):
        assert "# TYPE %s %s\n" % (name, kind) in text
    text = metrics.render("s", "1.0", HASH, HASH, True, {})
    assert metric_value(text, "acgs_constitutional_compliance") == 1
    assert metric_value(text, "acgs_service_up") == 1


# ---------------------------------------------------------------------------
# the service as a process, on real sockets
# ---------------------------------------------------------------------------

def run_main(*args):
    return subprocess.run([sys.executable, SERVICE_PATH] + list(args), stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=30, check=False)


def test_bad_config_exits_2_naming_the_key(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "auth-service", "listen_port": "eighty", "constitutional_hash": HASH}))
    result = run_main("--config", str(bad))
    assert result.returncode == 2
    assert b"'listen_port'" in result.stderr and b"Traceback" not in result.stderr

    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = run_main("--config", str(broken))
    assert result.returncode == 2 and b"not valid JSON" in result.stderr and b"Traceback" not in result.stderr

    result = run_main("--config", str(tmp_path / "missing.json"))
    assert result.returncode == 2 and b"cannot read config file" in result.stderr and b"Traceback" not in result.stderr

    good = tmp_path / "good.json"
    good.write_text(json.dumps({"name": "auth-service", "listen_port": 18000, "constitutional_hash": HASH}))
    result = run_main("--check-config", str(good))
    assert result.returncode == 0, result.stderr
    assert run_main("--check-config", str(bad)).returncode == 2


def test_port_in_use_exits_1_without_traceback(tmp_path):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    try:
        config = tmp_path / "c.json"
        config.write_text(json.dumps(base_config(listen_port=holder.getsockname()[1])))
        result = run_main("--config", str(config))
    finally:
        holder.close()
    assert result.returncode == 1
    assert b"cannot listen" in result.stderr and b"Traceback" not in result.stderr


def test_endpoints_headers_and_keep_alive(start_service):
    service = start_service(base_config())
    port = service.port

    status, headers, body = get_json(port, "/health")
    assert status == 200
    assert body["status"] == "healthy" and body["service"] == "auth-service" and body["version"] == "0.1.0"
    assert body["constitutional_hash"] == HASH and body["dependencies"] == {}
    assert body["uptime_seconds"] >= 0
    assert headers["x-constitutional-hash"] == HASH and headers["x-acgs-version"] == "0.1.0"
    assert headers["content-type"] == "application/json"

    status, headers, body = get_json(port, "/api/v1/compliance/status")
    assert status == 200 and headers["x-constitutional-hash"] == HASH
    assert body == {"status": "success", "version": "0.1.0",
                    "data": {"constitutional_hash": HASH, "compliant": True, "service": "auth-service", "version": "0.1.0"}}

    status, headers, body = get_json(port, "/no/such/path")
    assert status == 404 and body["status"] == "error" and body["version"] == "0.1.0"
    assert headers["x-constitutional-hash"] == HASH and headers["x-acgs-version"] == "0.1.0"

    status, headers, _body = get(port, "/health", method="POST")
    assert status == 405 and headers["allow"] == "GET, HEAD"

    status, headers, body = get(port, "/health", method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0

    # Keep-alive and pipelining: three requests written at once on one connection.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n" * 2 + b"GET /api/v1/compliance/status HTTP/1.1\r\nHost: t\r\n\r\n")
        answers = []
        buf = b""
        while len(answers) < 3:
            chunk = sock.recv(65536)
            assert chunk, "connection closed after %d responses" % len(answers)
            buf += chunk
            while b"\r\n\r\n" in buf:
                head, _sep, rest = buf.partition(b"\r\n\r\n")
                length = int(re.search(br"Content-Length: (\d+)", head).group(1))
                if len(rest) < length:
                    break
                answers.append((head.split(b" ")[1], json.loads(rest[:length].decode("utf-8"))))
                buf = rest[length:]
        assert [a[0] for a in answers] == [b"200", b"200", b"200"]
        assert answers[2][1]["data"]["constitutional_hash"] == HASH
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        status, headers, _body = read_response(sock)
        assert status == 200 and headers["connection"] == "close"
        assert sock.recv(1) == b""

    # A malformed request is answered 400 and the connection closed.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        status, headers, body = read_response(sock)
        assert status == 400 and headers["x-constitutional-hash"] == HASH and json.loads(body.decode())["version"] == "0.1.0"
        assert sock.recv(1) == b""

    lines_before = len(service.lines)
    for _attempt in range(30):
        assert get(port, "/health")[0] == 200
    status, headers, body = get(port, "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain; version=0.0.4")
    assert headers["x-constitutional-hash"] == HASH
    text = body.decode("utf-8")
    assert metric_value(text, "acgs_service_up", service="auth-service") == 1
    assert metric_value(text, "acgs_constitutional_compliance", service="auth-service") == 1
    assert metric_value(text, "acgs_requests_total", service="auth-service", method="GET", endpoint="/health", status="200") >= 33
    assert metric_value(text, "acgs_requests_total", method="GET", endpoint="other", status="404") == 1
    assert metric_value(text, "acgs_requests_total", method="POST", endpoint="/health", status="405") == 1
    assert metric_value(text, "acgs_response_time_seconds_count", endpoint="/health") >= 33
    assert metric_value(text, "acgs_errors_total", service="auth-service", endpoint="/health") == 0
    assert len(service.lines) == lines_before, "requests must not be logged"


def test_many_pipelined_requests_from_a_slow_reader(start_service):
    service = start_service(base_config())
    count = 5000
    request = b"GET /api/v1/compliance/status HTTP/1.1\r\nHost: t\r\n\r\n"
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
        writer = threading.Thread(target=sock.sendall, args=(request * count,), daemon=True)
        writer.start()
        received = b""
        answered = 0
        while answered < count:
            chunk = sock.recv(65536)
            assert chunk, "connection closed after %d responses" % answered
            received += chunk
            answered = received.count(b"HTTP/1.1 200 OK\r\n")
        writer.join(timeout=10)
    assert answered == count


def test_dependencies_up_down_and_back(start_service, peers, http_peer):
    redis = peers(RedisHandler, password="secret")
    nats = peers(NatsHandler, jetstream=True, connects=[])
    opa = http_peer(200)
    service = start_service(base_config(dependencies=[
        {"name": "redis", "type": "redis", "required": True, "host": "127.0.0.1", "port": redis.port, "login_password": "secret"},
        {"name": "nats", "type": "nats", "required": True, "host": "127.0.0.1", "port": nats.port},
        {"name": "opa", "type": "http", "required": False, "url": "http://127.0.0.1:%d/health" % opa.port},
    ]))
    port = service.port

    # The first round of checks completes before the service listens.
    status, _headers, body = get_json(port, "/health")
    assert status == 200 and body["status"] == "healthy", body
    deps = body["dependencies"]
    assert set(deps) == {"redis", "nats", "opa"}
    for name in deps:
        assert deps[name]["status"] == "up" and deps[name]["error"] is None and deps[name]["latency_ms"] >= 0
    assert deps["redis"]["required"] is True and deps["opa"]["required"] is False
    assert deps["nats"]["jetstream"] is True
    connect = nats.server.connects[0]
    assert connect["verbose"] is False and connect["pedantic"] is False

    # Required dependency goes away: 503 unhealthy, reason reported.
    redis.stop()
    # A check in flight when the peer stops may see a reset; the rounds after it see a refusal.
    status, _headers, body = poll(lambda: health_when(port, lambda r: r[0] == 503 and "refused" in str(
        r[2]["dependencies"]["redis"]["error"]).lower()), what="503 naming the refused redis after it stopped")
    assert body["status"] == "unhealthy"
    assert body["dependencies"]["redis"]["status"] == "down"
    text = get(port, "/metrics")[2].decode()
    assert metric_value(text, "acgs_dependency_up", dependency="redis") == 0
    assert metric_value(text, "acgs_service_up") == 0
    assert metric_value(text, "acgs_errors_total", endpoint="/health") >= 1

    # It comes back: healthy again without a restart.
    redis.start()
    poll(lambda: get(port, "/health")[0] == 200, what="200 after redis restarted")

    # An optional dependency down: still healthy, and reported.
    opa.server.status_code = 500
    body = poll(lambda: health_when(port, lambda r: r[2]["dependencies"]["opa"]["status"] == "down"), what="opa reported down")[2]
    assert body["status"] == "healthy" and body["dependencies"]["opa"]["error"] == "HTTP 500"
    text = get(port, "/metrics")[2].decode()
    assert metric_value(text, "acgs_dependency_up", dependency="opa") == 0
    assert metric_value(text, "acgs_dependency_up", dependency="nats") == 1
    assert metric_value(text, "acgs_service_up") == 1

    # One log line per state change, not per check round.
    log = service.log_text()
    assert len(re.findall(r"dependency redis \(redis, required\) is down", log)) == 1
    assert len(re.findall(r"dependency redis \(redis, required\) is up", log)) == 2
    assert "service is now unhealthy" in log and "service is now healthy" in log


def test_redis_auth_failure_and_unreachable_postgresql(start_service, peers):
    redis = peers(RedisHandler, password="right")
    noauth = peers(RedisHandler, password="right")
    closed_port = free_port()
    service = start_service(base_config(dependencies=[
        {"name": "redis", "type": "redis", "host": "127.0.0.1", "port": redis.port, "login_password": "wrong"},
        {"name": "redis-noauth", "type": "redis", "host": "127.0.0.1", "port": noauth.port},
        {"name": "postgresql", "type": "postgresql", "host": "127.0.0.1", "port": closed_port, "login_db": "acgs",
         "login_user": "acgs", "login_password": "x"},
    ]))
    status, _headers, body = get_json(service.port, "/health")
    assert status == 503 and body["status"] == "unhealthy"
    deps = body["dependencies"]
    assert deps["redis"]["status"] == "down" and "WRONGPASS" in deps["redis"]["error"]
    assert deps["redis-noauth"]["status"] == "down" and "NOAUTH" in deps["redis-noauth"]["error"]
    assert deps["postgresql"]["status"] == "down" and deps["postgresql"]["error"]


def test_check_timeout_bounds_a_silent_peer_and_health_stays_fast(start_service, peers):
    silent = peers(RedisHandler, silent=True)
    config = base_config(check_interval=0.2, check_timeout=0.3, dependencies=[
        {"name": "redis", "type": "redis", "host": "127.0.0.1", "port": silent.port}])
    started = time.monotonic()
    service = start_service(config)
    assert time.monotonic() - started < 5
    # While checks hang on the silent peer, /health answers from the last results at once.
    for _attempt in range(5):
        began = time.monotonic()
        status, _headers, body = get_json(service.port, "/health")
        assert time.monotonic() - began < 0.25
        assert status == 503
        assert body["dependencies"]["redis"]["error"] == "check timed out after 0.3s"


def test_fault_error_rate_and_wrong_hash(start_service):
    service = start_service(base_config(faults={"error_rate": 1.0, "wrong_hash": True}))
    port = service.port
    status, headers, body = get_json(port, "/health")
    assert status == 500 and body["version"] == "0.1.0"
    wrong = headers["x-constitutional-hash"]
    assert wrong != HASH and re.match(r"^[0-9a-f]{16}$", wrong)
    assert get(port, "/api/v1/compliance/status")[0] == 500
    status, headers, body = get(port, "/metrics")
    assert status == 200 and headers["x-constitutional-hash"] == wrong
    text = body.decode()
    assert metric_value(text, "acgs_constitutional_compliance") == 0
    assert metric_value(text, "acgs_errors_total", endpoint="/health") == 1
    assert metric_value(text, "acgs_requests_total", endpoint="/api/v1/compliance/status", status="500") == 1


def test_fault_error_rate_fraction(start_service):
    service = start_service(base_config(faults={"error_rate": 0.5}))
    conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=10)
    codes = []
    for _attempt in range(400):
        conn.request("GET", "/health")
        resp = conn.getresponse()
        resp.read()
        codes.append(resp.status)
    conn.close()
    # Spread evenly and exact: every second request fails, the first one succeeds.
    assert codes.count(500) == 200
    assert codes[:4] == [200, 500, 200, 500]


def test_fault_wrong_hash_in_bodies_and_sighup_reload(start_service):
    config = base_config()
    service = start_service(config)
    port = service.port
    assert get_json(port, "/api/v1/compliance/status")[2]["data"]["constitutional_hash"] == HASH

    config["version"] = "0.2.0"
    config["faults"] = {"wrong_hash": True}
    service.write_config(config)
    service.proc.send_signal(signal.SIGHUP)
    service.wait_log(r"SIGHUP: reloaded version=0\.2\.0")
    status, headers, body = get_json(port, "/api/v1/compliance/status")
    assert status == 200 and headers["x-acgs-version"] == "0.2.0" and body["data"]["version"] == "0.2.0"
    wrong = body["data"]["constitutional_hash"]
    assert wrong != HASH and body["data"]["compliant"] is False and headers["x-constitutional-hash"] == wrong
    health = get_json(port, "/health")[2]
    assert health["constitutional_hash"] == wrong and health["version"] == "0.2.0"
    assert metric_value(get(port, "/metrics")[2].decode(), "acgs_constitutional_compliance") == 0

    # A bad config on SIGHUP is refused; the running settings stay.
    with open(service.config_path, "w") as handle:
        handle.write(json.dumps({"name": "auth-service", "listen_port": 0, "constitutional_hash": HASH,
                                 "faults": {"error_rate": 7}}))
    service.proc.send_signal(signal.SIGHUP)
    service.wait_log(r"SIGHUP: config not reloaded.*'faults\.error_rate'")
    assert get(port, "/health")[1]["x-acgs-version"] == "0.2.0"
    assert service.proc.poll() is None


def test_fault_latency(start_service):
    service = start_service(base_config(faults={"latency_ms": 300}))
    began = time.monotonic()
    assert get(service.port, "/health")[0] == 200
    assert time.monotonic() - began >= 0.3
    began = time.monotonic()
    assert get(service.port, "/metrics")[0] == 200
    assert time.monotonic() - began < 0.3  # the scrape endpoint is not delayed


def _in_flight(port):
    return metric_value(get(port, "/metrics")[2].decode(), "acgs_requests_in_flight")


def test_sigterm_drains_in_flight_requests_and_closes_idle_ones(start_service):
    service = start_service(base_config(drain_seconds=10, faults={"latency_ms": 1500}))
    port = service.port
    idle = socket.create_connection(("127.0.0.1", port), timeout=10)
    busy = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        busy.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        poll(lambda: _in_flight(port) == 1, what="the request to be in flight")
        service.proc.send_signal(signal.SIGTERM)
        idle.settimeout(1.0)
        assert idle.recv(1) == b"", "idle keep-alive connection must be closed"
        poll(lambda: _refused(port), timeout=1.0, what="the listening socket to close")
        # Both happened while the request was still in flight, not at exit.
        assert service.proc.poll() is None
        status, headers, body = read_response(busy)
        assert status == 200 and headers["connection"] == "close" and json.loads(body.decode())["status"] == "healthy"
        assert busy.recv(1) == b""
        assert service.wait_exit() == 0
    finally:
        idle.close()
        busy.close()
    assert re.search(r"stopped auth-service", service.log_text())


def test_sigterm_answers_a_request_sent_on_an_idle_keep_alive_connection_then_closes_it(start_service):
    # A grace long enough for a loaded test machine (0.5 s by default).
    service = start_service(base_config(drain_seconds=10, drain_idle_seconds=5))
    port = service.port
    idle = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        # A keep-alive connection that has served a request and is idle, as a client's pool holds it.
        idle.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        status, headers, _body = read_response(idle)
        assert status == 200 and headers["connection"] == "keep-alive"
        service.proc.send_signal(signal.SIGTERM)
        service.wait_log(r"SIGTERM: draining")
        poll(lambda: _refused(port), timeout=1.0, what="the listening socket to close")
        # The client sends its next request on it just then: answered, and told to close (not reset).
        idle.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        status, headers, _body = read_response(idle)
        assert status == 200 and headers["connection"] == "close"
        assert idle.recv(1) == b""
        assert service.wait_exit() == 0
    finally:
        idle.close()


def _refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_sigterm_gives_up_after_drain_seconds(start_service):
    service = start_service(base_config(drain_seconds=0.5, faults={"latency_ms": 30000}))
    busy = socket.create_connection(("127.0.0.1", service.port), timeout=10)
    try:
        busy.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        poll(lambda: _in_flight(service.port) == 1, what="the request to be in flight")
        began = time.monotonic()
        service.proc.send_signal(signal.SIGTERM)
        assert service.wait_exit(timeout=10) == 0
        assert time.monotonic() - began < 5
        assert busy.recv(1) == b""
    finally:
        busy.close()
    assert "drain time of 0.5s elapsed with 1 connection(s) still busy" in service.log_text()


def test_fault_ignore_sigterm(start_service):
    service = start_service(base_config(faults={"ignore_sigterm": True}))
    service.proc.send_signal(signal.SIGTERM)
    service.wait_log("SIGTERM ignored")
    assert get(service.port, "/health")[0] == 200
    assert service.proc.poll() is None
    service.proc.send_signal(signal.SIGKILL)
    assert service.wait_exit() == -signal.SIGKILL


# ---------------------------------------------------------------------------
# the compliance cache
# ---------------------------------------------------------------------------

needs_redis = pytest.mark.skipif(not (shutil.which("redis-server") and shutil.which("redis-cli")), reason="redis-server is not installed")
COMPLIANCE = "/api/v1/compliance/status"
REDIS_SECRET = "cache-test-secret"


def redis_cli(redis, *args):
    result = subprocess.run(["redis-cli", "-p", str(redis.port), "-a", REDIS_SECRET, "--no-auth-warning"] + list(args),
                            capture_output=True, timeout=10, check=True)
    return result.stdout.decode("utf-8").strip()


def keyspace_counters(redis):
    info = dict(line.split(":", 1) for line in redis_cli(redis, "INFO", "stats").splitlines() if ":" in line)
    return int(info["keyspace_hits"]), int(info["keyspace_misses"])


def cache_counters(port):
    text = get(port, "/metrics")[2].decode()
    return (metric_value(text, "acgs_cache_hits_total"), metric_value(text, "acgs_cache_misses_total"),
            metric_value(text, "acgs_cache_errors_total", operation="get"))


def redis_dependency(port, password=REDIS_SECRET):
    return {"name": "redis", "type": "redis", "required": True, "host": "127.0.0.1", "port": port, "login_password": password}


@needs_redis
def test_compliance_is_cached_in_redis_and_answered_without_it(start_service, tmp_path):
    redis = RedisServer(REDIS_SECRET, tmp_path)
    with redis:
        service = start_service(base_config(dependencies=[redis_dependency(redis.port)], cache={"ttl": 30}))
        port = service.port
        key = "acgs:auth-service:compliance:0.1.0:" + HASH
        assert "compliance cached in redis for 30s" in service.log_text()

        # A miss: evaluated, answered, stored under the service's key with the TTL.
        status, headers, body = get(port, COMPLIANCE)
        assert status == 200 and headers["x-acgs-cache"] == "miss"
        document = json.loads(body.decode())
        assert document["data"]["constitutional_hash"] == HASH and document["data"]["compliant"] is True
        assert document["data"]["service"] == "auth-service" and document["data"]["version"] == "0.1.0"
        assert redis_cli(redis, "GET", key) == body.decode()
        assert 0 < int(redis_cli(redis, "PTTL", key)) <= 30000

        # Hits: the stored evaluation, byte for byte; Redis's own counters saw each lookup.
        before = keyspace_counters(redis)
        for _attempt in range(5):
            status, headers, again = get(port, COMPLIANCE)
            assert status == 200 and headers["x-acgs-cache"] == "hit" and again == body
        after = keyspace_counters(redis)
        assert (after[0] - before[0], after[1] - before[1]) == (5, 0)
        # What Redis holds is what is served: the answer really comes from Redis.
        planted = json.dumps({"status": "success", "data": {"constitutional_hash": HASH, "planted": True}})
        redis_cli(redis, "SET", key, planted, "PX", "30000")
        assert get(port, COMPLIANCE)[2].decode() == planted
        # Gone from Redis (expired or flushed): evaluated and stored again.
        redis_cli(redis, "DEL", key)
        status, headers, body = get(port, COMPLIANCE)
        assert headers["x-acgs-cache"] == "miss" and json.loads(body.decode())["data"]["compliant"] is True
        assert poll(lambda: redis_cli(redis, "EXISTS", key) == "1", what="the evaluation stored again")
        assert cache_counters(port) == (6, 2, 0)
        text = get(port, "/metrics")[2].decode()
        assert metric_value(text, "acgs_cache_connections") == 2
        assert metric_value(text, "acgs_cache_errors_total", operation="set") == 0

    # Redis down: /health says so (503, as before the cache); compliance is still answered.
    poll(lambda: get(port, "/health")[0] == 503, what="/health 503 with redis down")
    for _attempt in range(3):
        began = time.monotonic()
        status, headers, body = get(port, COMPLIANCE)
        assert time.monotonic() - began < 1.0
        assert status == 200 and headers["x-acgs-cache"] == "error"
        assert json.loads(body.decode())["data"]["constitutional_hash"] == HASH
    hits, misses, errors = cache_counters(port)
    assert (hits, misses) == (6, 2) and errors >= 3
    # the log line comes through the reader thread of the service's output: waited for, not read at once
    service.wait_log(re.escape("cache: Redis redis (127.0.0.1:%d) unavailable" % redis.port))

    # Back on the same port: the pool reconnects by itself.
    with redis:
        poll(lambda: get(port, COMPLIANCE)[1]["x-acgs-cache"] == "hit" or None, what="cache hits after redis came back")
        poll(lambda: get(port, "/health")[0] == 200, what="/health 200 after redis came back")
        assert service.log_text().count("cache: connected to Redis redis") == 2


@needs_redis
def test_compliance_cache_keys_follow_version_and_reported_hash(start_service, tmp_path):
    with RedisServer(REDIS_SECRET, tmp_path) as redis:
        config = base_config(dependencies=[redis_dependency(redis.port)])
        service = start_service(config)
        port = service.port
        assert get(port, COMPLIANCE)[1]["x-acgs-cache"] == "miss"
        assert get(port, COMPLIANCE)[1]["x-acgs-cache"] == "hit"
        # SIGHUP to another version with the wrong_hash fault and a latency fault: its own key,
        # never the correct hash's entry (nor the other way round); the slow path caches too.
        config["version"] = "0.2.0"
        config["faults"] = {"wrong_hash": True, "latency_ms": 20}
        service.write_config(config)
        service.proc.send_signal(signal.SIGHUP)
        service.wait_log(r"SIGHUP: reloaded version=0\.2\.0")
        status, headers, body = get(port, COMPLIANCE)
        wrong = json.loads(body.decode())["data"]["constitutional_hash"]
        assert status == 200 and headers["x-acgs-cache"] == "miss" and wrong != HASH
        assert json.loads(body.decode())["data"]["compliant"] is False
        status, headers, again = get(port, COMPLIANCE)
        assert headers["x-acgs-cache"] == "hit" and again == body
        keys = sorted(redis_cli(redis, "KEYS", "acgs:*").split())
        assert keys == sorted(["acgs:auth-service:compliance:0.1.0:" + HASH, "acgs:auth-service:compliance:0.2.0:" + wrong])


@needs_redis
def test_concurrent_lookups_of_a_key_share_one_get(start_service, tmp_path):
    with RedisServer(REDIS_SECRET, tmp_path) as redis:
        service = start_service(base_config(dependencies=[redis_dependency(redis.port)], cache={"timeout": 10}))
        port = service.port
        assert get(port, COMPLIANCE)[1]["x-acgs-cache"] == "miss"
        before = keyspace_counters(redis)
        clients = [socket.create_connection(("127.0.0.1", port), timeout=10) for _index in range(6)]
        redis.proc.send_signal(signal.SIGSTOP)
        try:
            for client in clients:
                client.sendall(b"GET /api/v1/compliance/status HTTP/1.1\r\nHost: t\r\n\r\n")
            # All six wait for the one GET sent for the first.
            poll(lambda: _in_flight(port) == 6, what="six compliance requests waiting for Redis")
        finally:
            redis.proc.send_signal(signal.SIGCONT)
        try:
            answers = [read_response(client) for client in clients]
        finally:
            for client in clients:
                client.close()
        assert [(a[0], a[1]["x-acgs-cache"]) for a in answers] == [(200, "hit")] * 6
        after = keyspace_counters(redis)
        assert (after[0] - before[0], after[1] - before[1]) == (1, 0)
        assert cache_counters(port) == (6, 1, 0)


def test_compliance_cache_lookup_is_bounded_when_redis_does_not_answer(start_service, peers):
    silent = peers(RedisHandler, silent=True)
    service = start_service(base_config(check_timeout=0.3, dependencies=[
        {"name": "redis", "type": "redis", "host": "127.0.0.1", "port": silent.port}], cache={"timeout": 0.2}))
    for _attempt in range(4):
        began = time.monotonic()
        status, headers, body = get(service.port, COMPLIANCE)
        assert time.monotonic() - began < 1.0
        assert status == 200 and headers["x-acgs-cache"] == "error"
        assert json.loads(body.decode())["data"]["constitutional_hash"] == HASH
    assert cache_counters(service.port) == (0, 0, 4)


def test_no_cache_without_a_redis_dependency(start_service):
    service = start_service(base_config())
    status, headers, body = get(service.port, COMPLIANCE)
    assert status == 200 and "x-acgs-cache" not in headers
    assert json.loads(body.decode())["data"]["constitutional_hash"] == HASH
    assert "acgs_cache" not in get(service.port, "/metrics")[2].decode()
    assert "no cache" in service.log_text()


@pytest.mark.parametrize("environ, interval", [
    ({"WATCHDOG_USEC": "10000000", "NOTIFY_SOCKET": "/run/systemd/notify"}, 5.0),
    ({"WATCHDOG_USEC": "10000000", "NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_PID": "self"}, 5.0),
    ({"WATCHDOG_USEC": "10000000", "NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_PID": "1"}, None),  # another process
    ({"WATCHDOG_USEC": "10000000"}, None),  # no socket
    ({"NOTIFY_SOCKET": "/run/systemd/notify"}, None),  # no watchdog
    ({"WATCHDOG_USEC": "ten", "NOTIFY_SOCKET": "/run/systemd/notify"}, None),
])
def test_systemd_watchdog_interval(environ, interval):
    # "self": this process's pid, read when the test runs (pytest-xdist collects in another process)
    environ = dict(environ, **({"WATCHDOG_PID": str(os.getpid())} if environ.get("WATCHDOG_PID") == "self" else {}))
    assert acgs.systemd_watchdog_interval(environ) == interval


def test_systemd_watchdog_notifies_while_the_loop_runs_and_not_while_it_hangs(tmp_path, start_service):
    """Under systemd's watchdog (WATCHDOG_USEC 0.2 s) the service sends WATCHDOG=1 to NOTIFY_SOCKET every 0.1 s;
    frozen (SIGSTOP, as a hung loop) it sends nothing, so systemd would restart it; resumed, it sends again."""
    address = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(0.05)

    def received(seconds):
        messages, end = [], time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                messages.append(sock.recv(64))
            except socket.timeout:
                pass
        return messages

    service = start_service(base_config(), {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "200000"})
    try:
        running = received(1.0)
        assert len(running) >= 5 and set(running) == {b"WATCHDOG=1"}, running
        os.kill(service.proc.pid, signal.SIGSTOP)
        received(0.2)  # what was sent before it froze
        assert received(0.6) == []
        os.kill(service.proc.pid, signal.SIGCONT)
        assert len(received(0.5)) >= 2
    finally:
        os.kill(service.proc.pid, signal.SIGCONT)
        sock.close()

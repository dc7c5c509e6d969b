# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: acgs_health's probes of the infrastructure the ACGS services depend on.

Each probe talks the real protocol (PostgreSQL and Redis through the shared
connections of _postgres and _redis, NATS through its text protocol on a socket,
plain TCP, HTTP) and returns a result with the same keys whether the component
answered or not. Passwords are scrubbed from every message. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import socket
import time

from ansible_collections.acgs.platform.plugins.module_utils import _postgres, _redis
from ansible_collections.acgs.platform.plugins.module_utils._connection import where
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError, describe_error, scrub
from ansible_collections.acgs.platform.plugins.module_utils._http import http_get, join_url, ssl_context
from ansible_collections.acgs.platform.plugins.module_utils._probe_args import ProbeError, validate_url
from ansible_collections.acgs.platform.plugins.module_utils._probe_run import elapsed_ms, with_retries
from ansible_collections.acgs.platform.plugins.module_utils.catalog import INFRASTRUCTURE_PORTS

DEPENDENCY_TYPES = ("postgresql", "redis", "nats", "tcp", "http")
LIBRARIES = {"postgresql": "psycopg2", "redis": "redis"}

# The keys of ``details`` for each type: present (None when unknown) whatever happened.
DETAIL_KEYS = {
    "postgresql": ("server_version", "connections", "max_connections", "pool_usage_percent"),
    "redis": ("redis_version", "role", "connected_clients", "used_memory", "keyspace_hits",
              "keyspace_misses", "hit_rate_percent"),
    "nats": ("server_id", "server_name", "version", "jetstream", "max_payload", "tls_required"),
    "tcp": (),
    "http": ("http_status",),
}


def libraries_needed(dependencies):
    """The optional libraries the given dependency entries need."""
    return sorted(set(LIBRARIES[dep["type"]] for dep in dependencies or [] if dep.get("type") in LIBRARIES))


def normalise_dependencies(specs, default_host, timeout=5.0):
    """Validated copies of the ``dependencies`` entries, every default filled; ProbeError names the bad one."""
    result = []
    seen = set()
    for index, spec in enumerate(specs or []):
        here = "dependencies[%d]" % index
        dep = dict(spec)
        name = dep.get("name")
        if not name:
            raise ProbeError("%s.name must not be empty" % here)
        if name in seen:
            raise ProbeError("%s.name %r is listed twice" % (here, name))
        seen.add(name)
        dtype = dep.get("type")
        if dtype not in DEPENDENCY_TYPES:
            raise ProbeError("%s.type %r is not one of %s" % (here, dtype, ", ".join(DEPENDENCY_TYPES)))
        dep["host"] = dep.get("host") or default_host
        if dtype == "http":
            if not dep.get("url"):
                raise ProbeError("%s.url is required for type http" % here)
            dep["url"] = validate_url(dep["url"], "%s.url" % here)
        else:
            if dep.get("port") is None:
                if dtype not in INFRASTRUCTURE_PORTS:
                    raise ProbeError("%s.port is required for type %s" % (here, dtype))
                dep["port"] = INFRASTRUCTURE_PORTS[dtype]
            if not 1 <= int(dep["port"]) <= 65535:
                raise ProbeError("%s.port %r is outside 1-65535" % (here, dep["port"]))
        if dtype == "postgresql":
            # libpq waits at least 2 s whatever connect_timeout says
            dep = _postgres.resolve(dep, connect_timeout=max(2, int(math.ceil(timeout))))
        elif dtype == "redis":
            dep = _redis.resolve(dep, connect_timeout=timeout)
        if dep.get("redis_db") is not None and dep["redis_db"] < 0:
            raise ProbeError("%s.redis_db must be 0 or more" % here)
        threshold = dep.get("pool_threshold_percent")
        if threshold is not None and not 0 < threshold <= 100:
            raise ProbeError("%s.pool_threshold_percent must be in (0, 100], got %r" % (here, threshold))
        result.append(dep)
    return result


def new_result(dep):
    """A dependency result with every key present."""
    http = dep.get("type") == "http"
    return {
        "name": dep.get("name"),
        "type": dep.get("type"),
        "host": None if http else dep.get("host"),
        "port": None if http else dep.get("port"),
        "url": dep.get("url") if http else None,
        "required": bool(dep.get("required", True)),
        "status": "unhealthy",
        "latency_ms": None,
        "attempts": 0,
        "error": None,
        "error_kind": None,
        "needed_by": [],
        "details": dict((key, None) for key in DETAIL_KEYS.get(dep.get("type"), ())),
    }


def address(dep):
    """What a dependency probe reaches: its URL, or host:port."""
    return dep["url"] if dep.get("type") == "http" else where(dep)


def probe_dependency(dep, options):
    """Probe one dependency with retries; a complete result dict, never raises."""
    probe = _PROBES[dep["type"]]

    def attempt():
        res = new_result(dep)
        start = time.monotonic()
        try:
            probe(dep, options, res)
        except OperatorError as err:
            _fail(res, err.kind, err.detail)
        except Exception as err:  # pylint: disable=broad-except
            # a probe never raises: whatever went wrong is the dependency's error
            _fail(res, *describe_error(err, options.get("timeout")))
        if res["latency_ms"] is None:
            res["latency_ms"] = elapsed_ms(start)
        if res["error"]:
            res["error"] = scrub(res["error"], [dep.get("login_password")])
        return res

    res, attempts = with_retries(attempt, options.get("retries", 0), options.get("retry_delay", 0),
                                 lambda r: r["status"] != "unhealthy")
    res["attempts"] = attempts
    threshold = options.get("latency_threshold_ms")
    if res["status"] == "healthy" and threshold and res["latency_ms"] > threshold:
        res["status"] = "degraded"
        res["error"] = "latency %d ms is above the threshold of %d ms" % (res["latency_ms"], threshold)
    return res


def _fail(res, kind, message):
    res["status"] = "unhealthy"
    res["error_kind"] = kind
    res["error"] = message


def _probe_postgresql(dep, options, res):
    start = time.monotonic()
    extra = dict(application_name="acgs_health",
                 options="-c statement_timeout=%d" % int((options.get("timeout") or 5.0) * 1000))
    if options.get("ca_path") and dep["ssl_mode"] in ("verify-ca", "verify-full"):
        extra["sslrootcert"] = options["ca_path"]
    conn = _postgres.connect(dep, **extra)
    try:
        version, connections, max_connections = _postgres.query(
            conn, "SELECT current_setting('server_version'), (SELECT count(*) FROM pg_stat_activity), "
                  "current_setting('max_connections')::int", secrets=[dep.get("login_password")])[0]
    finally:
        conn.close()
    res["latency_ms"] = elapsed_ms(start)
    usage = round(100.0 * connections / max_connections, 1) if max_connections else None
    res["details"].update(server_version=version, connections=int(connections),
                          max_connections=int(max_connections), pool_usage_percent=usage)
    res["status"] = "healthy"
    threshold = dep.get("pool_threshold_percent")
    if usage is not None and threshold and usage > threshold:
        res["status"] = "degraded"
        res["error"] = "connection pool use %.1f%% is above %.1f%%" % (usage, threshold)


def _probe_redis(dep, options, res):
    start = time.monotonic()
    extra = {}
    if dep.get("tls"):
        extra.update(ssl=True, ssl_cert_reqs="required" if options.get("validate_certs", True) else "none",
                     ssl_ca_certs=options.get("ca_path"))
    client = _redis.connect(dep, **extra)
    try:
        info = client.info()
    finally:
        client.close()
    res["latency_ms"] = elapsed_ms(start)
    hits = int(info.get("keyspace_hits", 0) or 0)
    misses = int(info.get("keyspace_misses", 0) or 0)
    res["details"].update(
        redis_version=info.get("redis_version"), role=info.get("role"),
        connected_clients=info.get("connected_clients"), used_memory=info.get("used_memory"),
        keyspace_hits=hits, keyspace_misses=misses,
        hit_rate_percent=round(100.0 * hits / (hits + misses), 1) if hits + misses else None)
    res["status"] = "healthy"


def _read_line(sock, deadline, buf):
    while b"\r\n" not in buf[0]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("timed out")
        sock.settimeout(remaining)
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionResetError("server closed the connection")
        buf[0] += chunk
        if len(buf[0]) > 1024 * 1024:
            raise OperatorError("NATS server sent a line longer than 1 MiB", "protocol")
    line, _sep, rest = buf[0].partition(b"\r\n")
    buf[0] = rest
    return line.decode("utf-8", "replace")


def _probe_nats(dep, options, res):
    timeout = options.get("timeout") or 5.0
    start = time.monotonic()
    deadline = start + timeout
    sock = socket.create_connection((dep["host"], int(dep["port"])), timeout=timeout)
    try:
        buf = [b""]
        line = _read_line(sock, deadline, buf)
        if not line.startswith("INFO "):
            return _fail(res, "protocol", "not a NATS server: first line was %r" % line[:80])
        try:
            info = json.loads(line[5:])
        except ValueError:
            return _fail(res, "protocol", "NATS INFO is not valid JSON")
        res["details"].update(server_id=info.get("server_id"), server_name=info.get("server_name"),
                              version=info.get("version"), jetstream=bool(info.get("jetstream", False)),
                              max_payload=info.get("max_payload"), tls_required=bool(info.get("tls_required", False)))
        if info.get("tls_required") or dep.get("tls"):
            if not dep.get("tls"):
                return _fail(res, "tls", "the NATS server requires TLS: set tls: true")
            sock = ssl_context(options).wrap_socket(sock, server_hostname=dep["host"])
        connect = {"verbose": False, "pedantic": False, "name": "acgs_health", "lang": "python",
                   "version": "1.0", "protocol": 1, "tls_required": bool(dep.get("tls"))}
        if dep.get("login_user"):
            connect["user"] = dep["login_user"]
            connect["pass"] = dep.get("login_password") or ""
        elif dep.get("login_password"):
            connect["auth_token"] = dep["login_password"]
        sock.sendall(("CONNECT %s\r\nPING\r\n" % json.dumps(connect)).encode("utf-8"))
        while True:
            line = _read_line(sock, deadline, buf)
            if line == "PONG":
                break
            if line.startswith("-ERR"):
                text = line[4:].strip().strip("'")
                kind = "auth" if "authorization" in text.lower() or "authentication" in text.lower() else "protocol"
                return _fail(res, kind, ("authentication failed: %s" % text) if kind == "auth" else "NATS error: %s" % text)
            # +OK, PING or INFO updates may come first
            if line == "PING":
                sock.sendall(b"PONG\r\n")
    finally:
        sock.close()
    res["latency_ms"] = elapsed_ms(start)
    res["status"] = "healthy"
    return None


def _probe_tcp(dep, options, res):
    start = time.monotonic()
    socket.create_connection((dep["host"], int(dep["port"])), timeout=options.get("timeout") or 5.0).close()
    res["latency_ms"] = elapsed_ms(start)
    res["status"] = "healthy"


def _probe_http(dep, options, res):
    response = http_get(join_url(dep["url"], ""), options)
    res["latency_ms"] = response.latency_ms
    res["details"]["http_status"] = response.status
    codes = dep.get("status_codes") or [200]
    if response.error:
        return _fail(res, response.error_kind, response.error)
    if response.status not in codes:
        return _fail(res, "http_status", "HTTP %s (expected %s)" % (response.status, ", ".join(str(c) for c in codes)))
    res["status"] = "healthy"
    return None


_PROBES = {
    "postgresql": _probe_postgresql,
    "redis": _probe_redis,
    "nats": _probe_nats,
    "tcp": _probe_tcp,
    "http": _probe_http,
}

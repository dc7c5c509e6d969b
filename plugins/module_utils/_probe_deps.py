# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: probes of the infrastructure the ACGS services depend on.

Each probe talks the real protocol (PostgreSQL through psycopg2, Redis through
redis-py, NATS through its text protocol on a socket, plain TCP, HTTP) and
returns a result dict with the same keys whether the component answered or not.
Passwords are scrubbed from every message. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import json
import math
import socket
import ssl
import time
import traceback

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.acgs.platform.plugins.module_utils._http import (
    ProbeError,
    describe_error,
    elapsed_ms,
    http_get,
    join_url,
    scrub,
    validate_url,
    with_retries,
)

_LIBRARIES = {}


def load_library(name):
    """(module, import traceback) of an optional library, imported on first use.

    Imported lazily: importing redis alone costs about 0.1 s, paid by every
    health check even when it probes no Redis.
    """
    if name not in _LIBRARIES:
        try:
            _LIBRARIES[name] = (importlib.import_module(name), None)
        except ImportError:
            _LIBRARIES[name] = (None, traceback.format_exc())
    return _LIBRARIES[name]


DEPENDENCY_TYPES = ("postgresql", "redis", "nats", "tcp", "http")
DEFAULT_PORTS = {"postgresql": 5432, "redis": 6379, "nats": 4222}

# The keys of ``details`` for each type: present (None when unknown) whatever happened.
DETAIL_KEYS = {
    "postgresql": ("server_version", "connections", "max_connections", "pool_usage_percent"),
    "redis": ("redis_version", "role", "connected_clients", "used_memory", "keyspace_hits",
              "keyspace_misses", "hit_rate_percent"),
    "nats": ("server_id", "server_name", "version", "jetstream", "max_payload", "tls_required"),
    "tcp": (),
    "http": ("http_status",),
}

# The one place the dependency suboptions are declared (the module reuses it).
DEPENDENCY_OPTIONS = dict(
    name=dict(type="str", required=True),
    type=dict(type="str", required=True, choices=list(DEPENDENCY_TYPES)),
    host=dict(type="str"),
    port=dict(type="int"),
    url=dict(type="str"),
    status_codes=dict(type="list", elements="int", default=[200]),
    login_user=dict(type="str", aliases=["user"]),
    login_password=dict(type="str", no_log=True, aliases=["password"]),
    login_db=dict(type="str", aliases=["db"]),
    ssl_mode=dict(type="str", default="prefer",
                  choices=["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]),
    redis_db=dict(type="int", default=0),
    tls=dict(type="bool", default=False),
    required=dict(type="bool", default=True),
    pool_threshold_percent=dict(type="float", default=80.0),
)


def missing_libraries(dependencies):
    """[(library, traceback)] needed by the given dependency specs but not importable."""
    missing = []
    types = set(dep.get("type") for dep in dependencies or [])
    for dtype, library in (("postgresql", "psycopg2"), ("redis", "redis")):
        if dtype in types:
            module, error = load_library(library)
            if module is None:
                missing.append((library, error))
    return missing


def normalise_dependencies(specs, default_host):
    """Validated copies of the ``dependencies`` entries; ProbeError names the bad one."""
    result = []
    seen = set()
    for index, spec in enumerate(specs or []):
        where = "dependencies[%d]" % index
        dep = dict(spec)
        name = dep.get("name")
        if not name:
            raise ProbeError("%s.name must not be empty" % where)
        if name in seen:
            raise ProbeError("%s.name %r is listed twice" % (where, name))
        seen.add(name)
        dtype = dep.get("type")
        if dtype not in DEPENDENCY_TYPES:
            raise ProbeError("%s.type %r is not one of %s" % (where, dtype, ", ".join(DEPENDENCY_TYPES)))
        dep["host"] = dep.get("host") or default_host
        if dtype == "http":
            if not dep.get("url"):
                raise ProbeError("%s.url is required for type http" % where)
            dep["url"] = validate_url(dep["url"], "%s.url" % where)
        else:
            if dep.get("port") is None:
                if dtype not in DEFAULT_PORTS:
                    raise ProbeError("%s.port is required for type %s" % (where, dtype))
                dep["port"] = DEFAULT_PORTS[dtype]
            if not 1 <= int(dep["port"]) <= 65535:
                raise ProbeError("%s.port %r is outside 1-65535" % (where, dep["port"]))
        if dep.get("redis_db") is not None and dep["redis_db"] < 0:
            raise ProbeError("%s.redis_db must be 0 or more" % where)
        threshold = dep.get("pool_threshold_percent")
        if threshold is not None and not 0 < threshold <= 100:
            raise ProbeError("%s.pool_threshold_percent must be in (0, 100], got %r" % (where, threshold))
        result.append(dep)
    return result


def new_result(dep):
    """A dependency result with every key present."""
    return {
        "name": dep.get("name"),
        "type": dep.get("type"),
        "host": dep.get("host") if dep.get("type") != "http" else None,
        "port": dep.get("port") if dep.get("type") != "http" else None,
        "url": dep.get("url") if dep.get("type") == "http" else None,
        "required": bool(dep.get("required", True)),
        "status": "unhealthy",
        "latency_ms": None,
        "attempts": 0,
        "error": None,
        "error_kind": None,
        "needed_by": [],
        "details": dict((key, None) for key in DETAIL_KEYS.get(dep.get("type"), ())),
    }


def probe_dependency(dep, options):
    """Probe one dependency with retries; a complete result dict, never raises."""
    probe = _PROBES[dep["type"]]
    secrets = [dep.get("login_password")]

    def attempt():
        res = new_result(dep)
        start = time.monotonic()
        try:
            probe(dep, options, res)
            if res["status"] == "unhealthy" and res["error"] is None:
                res["error"] = "probe failed"
            elif res["error"] is None:
                res["status"] = res["status"] or "healthy"
        except ProbeError as err:
            res["status"], res["error"], res["error_kind"] = "unhealthy", to_native(err), "error"
        except Exception as err:  # pylint: disable=broad-except
            kind, message = describe_error(err, options.get("timeout"))
            res["status"], res["error"], res["error_kind"] = "unhealthy", message, kind
        if res["latency_ms"] is None:
            res["latency_ms"] = elapsed_ms(start)
        if res["error"]:
            res["error"] = scrub(res["error"], secrets)
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
    psycopg2 = load_library("psycopg2")[0]
    if psycopg2 is None:
        return _fail(res, "error", "the psycopg2 Python library is required to probe PostgreSQL")
    timeout = options.get("timeout") or 5.0
    start = time.monotonic()
    kwargs = dict(host=dep["host"], port=int(dep["port"]), dbname=dep.get("login_db") or "postgres",
                  connect_timeout=max(2, int(math.ceil(timeout))), sslmode=dep.get("ssl_mode") or "prefer",
                  application_name="acgs_health",
                  options="-c statement_timeout=%d" % int(timeout * 1000))
    if dep.get("login_user"):
        kwargs["user"] = dep["login_user"]
    if dep.get("login_password"):
        kwargs["password"] = dep["login_password"]
    if options.get("ca_path") and kwargs["sslmode"] in ("verify-ca", "verify-full"):
        kwargs["sslrootcert"] = options["ca_path"]
    try:
        conn = psycopg2.connect(**kwargs)
    except psycopg2.Error as err:
        text = to_native(err).strip()
        lowered = text.lower()
        if "authentication failed" in lowered or "no password supplied" in lowered or "password" in lowered and "auth" in lowered:
            first = text.splitlines()[0]
            detail = first.split("FATAL:", 1)[1].strip() if "FATAL:" in first else first
            return _fail(res, "auth", "authentication failed: %s" % detail)
        if "timeout expired" in lowered:
            return _fail(res, "timeout", "timed out after %ss connecting to PostgreSQL" % options.get("timeout"))
        if "connection refused" in lowered:
            return _fail(res, "refused", "connection refused")
        if "could not translate host name" in lowered:
            return _fail(res, "dns", "host name could not be resolved: %s" % text.splitlines()[0])
        return _fail(res, "error", text.splitlines()[0] if text else type(err).__name__)
    try:
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute("SELECT current_setting('server_version'), "
                    "(SELECT count(*) FROM pg_stat_activity), "
                    "current_setting('max_connections')::int")
        version, connections, max_connections = cur.fetchone()
        cur.close()
    except psycopg2.Error as err:
        return _fail(res, "error", "query failed: %s" % to_native(err).strip().splitlines()[0])
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
    return None


def _probe_redis(dep, options, res):
    redis = load_library("redis")[0]
    if redis is None:
        return _fail(res, "error", "the redis Python library is required to probe Redis")
    timeout = options.get("timeout") or 5.0
    start = time.monotonic()
    kwargs = dict(host=dep["host"], port=int(dep["port"]), db=dep.get("redis_db") or 0,
                  socket_timeout=timeout, socket_connect_timeout=timeout)
    retry, backoff = load_library("redis.retry")[0], load_library("redis.backoff")[0]
    if retry is not None and backoff is not None:
        # redis-py retries by default: the probe does its own retries, so one try means one timeout.
        kwargs["retry"] = retry.Retry(backoff.NoBackoff(), 0)
    if dep.get("login_user"):
        kwargs["username"] = dep["login_user"]
    if dep.get("login_password"):
        kwargs["password"] = dep["login_password"]
    if dep.get("tls"):
        kwargs.update(ssl=True, ssl_cert_reqs="required" if options.get("validate_certs", True) else "none",
                      ssl_ca_certs=options.get("ca_path"))
    client = redis.Redis(**kwargs)
    try:
        client.ping()
        info = client.info()
    except redis.exceptions.AuthenticationError as err:
        return _fail(res, "auth", "authentication failed: %s" % to_native(err))
    except redis.exceptions.ResponseError as err:
        text = to_native(err)
        if "NOAUTH" in text or "WRONGPASS" in text or "invalid password" in text.lower():
            return _fail(res, "auth", "authentication failed: %s" % text)
        return _fail(res, "error", "Redis error: %s" % text)
    except redis.exceptions.TimeoutError:
        return _fail(res, "timeout", "timed out after %ss" % timeout)
    except redis.exceptions.ConnectionError as err:
        kind, message = describe_error(err, timeout)
        if kind == "error":
            message = to_native(err)
            if "refused" in message.lower():
                kind, message = "refused", "connection refused"
        return _fail(res, kind, message)
    finally:
        try:
            client.close()
        except Exception:  # pylint: disable=broad-except
            pass
    res["latency_ms"] = elapsed_ms(start)
    hits = int(info.get("keyspace_hits", 0) or 0)
    misses = int(info.get("keyspace_misses", 0) or 0)
    res["details"].update(
        redis_version=info.get("redis_version"), role=info.get("role"),
        connected_clients=info.get("connected_clients"), used_memory=info.get("used_memory"),
        keyspace_hits=hits, keyspace_misses=misses,
        hit_rate_percent=round(100.0 * hits / (hits + misses), 1) if hits + misses else None)
    res["status"] = "healthy"
    return None


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
            raise ProbeError("NATS server sent a line longer than 1 MiB")
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
            context = ssl.create_default_context(cafile=options.get("ca_path"))
            if not options.get("validate_certs", True):
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            if options.get("client_cert"):
                context.load_cert_chain(options["client_cert"], options.get("client_key"))
            sock = context.wrap_socket(sock, server_hostname=dep["host"])
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
    timeout = options.get("timeout") or 5.0
    start = time.monotonic()
    sock = socket.create_connection((dep["host"], int(dep["port"])), timeout=timeout)
    sock.close()
    res["latency_ms"] = elapsed_ms(start)
    res["status"] = "healthy"


def _probe_http(dep, options, res):
    response = http_get(join_url(dep["url"], ""), options)
    res["latency_ms"] = response.latency_ms
    res["details"]["http_status"] = response.status
    if response.error:
        return _fail(res, response.error_kind, response.error)
    if response.status not in (dep.get("status_codes") or [200]):
        return _fail(res, "http_status", "HTTP %s (expected %s)" % (
            response.status, ", ".join(str(c) for c in dep.get("status_codes") or [200])))
    res["status"] = "healthy"
    return None


_PROBES = {
    "postgresql": _probe_postgresql,
    "redis": _probe_redis,
    "nats": _probe_nats,
    "tcp": _probe_tcp,
    "http": _probe_http,
}

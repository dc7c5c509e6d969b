# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reference ACGS service.

A small HTTP/1.1 service that honours the ACGS service contract, so that the
whole runbook can be exercised on one machine. The services role deploys one
instance per ACGS service and writes its JSON config file.

Run it as ``python3 acgs_service.py --config FILE``; ``--check-config FILE``
only validates a config file (exit 0 when good, 2 when bad).

Endpoints: ``GET /health``, ``GET /api/v1/compliance/status``, ``GET /metrics``.
Dependencies (PostgreSQL, Redis, NATS, HTTP) are checked by a background task
every ``check_interval`` seconds; ``/health`` reports the latest results.

A service with a Redis dependency caches its compliance evaluation there
(cache-aside, ``cache.ttl`` seconds, a few persistent RESP connections, each
lookup bounded by ``cache.timeout``): a request reads
``acgs:<name>:compliance:<version>:<reported hash>`` and, on a miss, evaluates
and stores it. When Redis does not answer the request is evaluated all the same
and counted as a cache error; ``/metrics`` counts hits, misses and errors.

Signals: SIGTERM (and SIGINT) drain and exit 0; SIGHUP re-reads ``version``
and ``faults`` from the config file.

Only the Python standard library is needed; ``psycopg2`` is used for
PostgreSQL dependencies when it is installed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import asyncio
import bisect
import collections
import hashlib
import json
import logging
import math
import os
import re
import signal
import socket
import ssl
import sys
import time
from urllib.parse import urlsplit

try:
    import psycopg2
    import psycopg2.extensions
except ImportError:  # pragma: no cover - depends on the host
    psycopg2 = None

LOG = logging.getLogger("acgs_service")

HASH_RE = re.compile(r"^[0-9a-f]{16,64}$")

DEPENDENCY_TYPES = ("postgresql", "redis", "nats", "http")

# Keys a config may hold, with their defaults; anything else is a typo.
TOP_DEFAULTS = {
    "name": None,
    "version": "0.1.0",
    "listen_host": "127.0.0.1",
    "listen_port": None,
    "constitutional_hash": None,
    "check_interval": 1.0,
    "check_timeout": 2.0,
    "drain_seconds": 10.0,
    # On SIGTERM, idle keep-alive connections stay open this long (at most drain_seconds): a client may be
    # sending its next request on one right then; it is answered with Connection: close. Closing them at
    # once loses that request (seen: 2 of 583,418 under wrk's keep-alive load in a Kubernetes rollout).
    "drain_idle_seconds": 0.5,
    "dependencies": [],
    "faults": {},
    "cache": {},
}
FAULT_DEFAULTS = {
    "latency_ms": 0.0,
    "error_rate": 0.0,
    "wrong_hash": False,
    "ignore_sigterm": False,
}
# The compliance cache: ttl 0 turns it off; dependency names the Redis dependency to use
# (default the first one); without a Redis dependency there is no cache.
CACHE_DEFAULTS = {
    "ttl": 5.0,
    "timeout": 0.2,
    "pool_size": 2,
    "dependency": None,
}
# Optional keys of each dependency type, in the connection option names the
# collection's modules use (host and port are required: the deployment knows them).
DEPENDENCY_DEFAULTS = {
    "postgresql": {"host": None, "port": None, "login_db": None, "login_user": None, "login_password": None},
    "redis": {"host": None, "port": None, "login_user": None, "login_password": None},
    "nats": {"host": None, "port": None, "login_user": None, "login_password": None, "token": None},
    "http": {"url": None},
}

# Endpoint labels; any other path is counted as "other" to bound cardinality.
HEALTH_PATH = "/health"
COMPLIANCE_PATH = "/api/v1/compliance/status"
METRICS_PATH = "/metrics"
ENDPOINTS = (HEALTH_PATH, COMPLIANCE_PATH, METRICS_PATH)
OTHER_ENDPOINT = "other"
KNOWN_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"))

HISTOGRAM_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

MAX_HEAD_BYTES = 65536
MAX_BODY_BYTES = 1048576

REASONS = {
    200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
    413: "Payload Too Large", 431: "Request Header Fields Too Large",
    500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}
JSON_TYPE = "application/json"
# Headers of a compliance response by how the cache answered (None: the service has no cache).
COMPLIANCE_HEADERS = {None: b"Content-Type: application/json\r\n"}
COMPLIANCE_HEADERS.update((outcome, b"Content-Type: application/json\r\nX-ACGS-Cache: %s\r\n" % outcome.encode("ascii"))
                          for outcome in ("hit", "miss", "error"))
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------

class ConfigError(Exception):
    """A config file that cannot be used; the message names the bad key."""


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_keys(raw, allowed, where):
    if not isinstance(raw, dict):
        raise ConfigError("bad config key '%s': must be a JSON object, got %s" % (where or "(top level)", type(raw).__name__))
    for key in raw:
        if key not in allowed:
            name = "%s.%s" % (where, key) if where else key
            raise ConfigError("unknown config key '%s' (known keys: %s)" % (name, ", ".join(sorted(allowed))))


def _string(value, key, allow_none=False):
    if allow_none and (value is None or value == ""):
        return None
    if not isinstance(value, str) or not value:
        raise ConfigError("bad config key '%s': must be a non-empty string, got %r" % (key, value))
    return value


def _number(value, key, minimum, maximum=None, min_exclusive=False):
    ok = _is_number(value) and math.isfinite(value)
    if ok:
        ok = value > minimum if min_exclusive else value >= minimum
    if ok and maximum is not None:
        ok = value <= maximum
    if not ok:
        bound = ("> %s" if min_exclusive else ">= %s") % minimum
        if maximum is not None:
            bound += " and <= %s" % maximum
        raise ConfigError("bad config key '%s': must be a number %s, got %r" % (key, bound, value))
    return float(value)


def _port(value, key, allow_zero=False):
    low = 0 if allow_zero else 1
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= 65535:
        raise ConfigError("bad config key '%s': must be an integer port between %d and 65535, got %r" % (key, low, value))
    return value


def _boolean(value, key):
    if not isinstance(value, bool):
        raise ConfigError("bad config key '%s': must be true or false, got %r" % (key, value))
    return value


def validate_faults(raw, where="faults"):
    """Return the faults section with defaults filled in."""
    if raw is None:
        raw = {}
    _check_keys(raw, FAULT_DEFAULTS, where)
    merged = dict(FAULT_DEFAULTS, **raw)
    return {
        "latency_ms": _number(merged["latency_ms"], where + ".latency_ms", 0),
        "error_rate": _number(merged["error_rate"], where + ".error_rate", 0, 1),
        "wrong_hash": _boolean(merged["wrong_hash"], where + ".wrong_hash"),
        "ignore_sigterm": _boolean(merged["ignore_sigterm"], where + ".ignore_sigterm"),
    }


def validate_cache(raw, dependencies, where="cache"):
    """Return the cache section with defaults filled in and ``dependency`` resolved.

    ``dependency`` is the name of the Redis dependency the cache uses, or None when
    there is no cache (ttl 0, or no Redis dependency).
    """
    if raw is None:
        raw = {}
    _check_keys(raw, CACHE_DEFAULTS, where)
    merged = dict(CACHE_DEFAULTS, **raw)
    pool_size = merged["pool_size"]
    if not isinstance(pool_size, int) or isinstance(pool_size, bool) or not 1 <= pool_size <= 16:
        raise ConfigError("bad config key '%s.pool_size': must be an integer between 1 and 16, got %r" % (where, pool_size))
    cache = {
        "ttl": _number(merged["ttl"], where + ".ttl", 0, 86400),
        "timeout": _number(merged["timeout"], where + ".timeout", 0, 60, min_exclusive=True),
        "pool_size": pool_size,
        "dependency": _string(merged["dependency"], where + ".dependency", allow_none=True),
    }
    redis = [dep["name"] for dep in dependencies if dep["type"] == "redis"]
    if cache["dependency"] is not None and cache["dependency"] not in redis:
        raise ConfigError("bad config key '%s.dependency': no redis dependency named %r (redis dependencies: %s)" % (
            where, cache["dependency"], ", ".join(redis) or "none"))
    if cache["ttl"] <= 0 or not redis:
        cache["dependency"] = None
    elif cache["dependency"] is None:
        cache["dependency"] = redis[0]
    return cache


def validate_dependency(raw, index):
    """Return one dependency with defaults filled in."""
    where = "dependencies[%d]" % index
    if not isinstance(raw, dict):
        raise ConfigError("bad config key '%s': must be a JSON object, got %s" % (where, type(raw).__name__))
    dep_type = raw.get("type")
    if dep_type not in DEPENDENCY_TYPES:
        raise ConfigError("bad config key '%s.type': must be one of %s, got %r" % (where, ", ".join(DEPENDENCY_TYPES), dep_type))
    defaults = DEPENDENCY_DEFAULTS[dep_type]
    allowed = dict(defaults, name=None, type=None, required=True)
    _check_keys(raw, allowed, where)
    merged = dict(allowed, **raw)
    dep = {
        "name": _string(merged["name"], where + ".name"),
        "type": dep_type,
        "required": _boolean(merged["required"], where + ".required"),
    }
    if dep_type == "http":
        url = _string(merged["url"], where + ".url")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError("bad config key '%s.url': must be an http:// or https:// URL, got %r" % (where, url))
        try:
            port = parts.port
        except ValueError:
            port = 0
        if port == 0:
            raise ConfigError("bad config key '%s.url': bad port in %r" % (where, url))
        dep["url"] = url
        return dep
    dep["host"] = _string(merged["host"], where + ".host")
    dep["port"] = _port(merged["port"], where + ".port")
    for key in defaults:
        if key not in ("host", "port"):
            dep[key] = _string(merged[key], "%s.%s" % (where, key), allow_none=True)
    return dep


def validate_config(raw):
    """Check a parsed config document and return it with defaults filled in.

    Raises ConfigError naming the first bad key.
    """
    _check_keys(raw, TOP_DEFAULTS, "")
    for key in ("name", "listen_port", "constitutional_hash"):
        if key not in raw:
            raise ConfigError("missing config key '%s'" % key)
    merged = dict(TOP_DEFAULTS, **raw)
    config = {
        "name": _string(merged["name"], "name"),
        "version": _string(merged["version"], "version"),
        "listen_host": _string(merged["listen_host"], "listen_host"),
        "listen_port": _port(merged["listen_port"], "listen_port", allow_zero=True),
        "check_interval": _number(merged["check_interval"], "check_interval", 0, min_exclusive=True),
        "check_timeout": _number(merged["check_timeout"], "check_timeout", 0, min_exclusive=True),
        "drain_seconds": _number(merged["drain_seconds"], "drain_seconds", 0),
        "drain_idle_seconds": _number(merged["drain_idle_seconds"], "drain_idle_seconds", 0),
        "faults": validate_faults(merged["faults"]),
    }
    expected = merged["constitutional_hash"]
    if not isinstance(expected, str) or not HASH_RE.match(expected.lower()):
        raise ConfigError("bad config key 'constitutional_hash': must be 16 to 64 hex digits, got %r" % (expected,))
    config["constitutional_hash"] = expected.lower()
    deps = merged["dependencies"]
    if deps is None:
        deps = []
    if not isinstance(deps, list):
        raise ConfigError("bad config key 'dependencies': must be a list, got %s" % type(deps).__name__)
    config["dependencies"] = []
    seen = set()
    for index, item in enumerate(deps):
        dep = validate_dependency(item, index)
        if dep["name"] in seen:
            raise ConfigError("bad config key 'dependencies[%d].name': duplicate dependency name %r" % (index, dep["name"]))
        seen.add(dep["name"])
        config["dependencies"].append(dep)
    config["cache"] = validate_cache(merged["cache"], config["dependencies"])
    return config


def load_config(path):
    """Read, parse and validate the JSON config file at path."""
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("cannot read config file %s: %s" % (path, exc)) from None
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ConfigError("config file %s is not valid JSON: %s" % (path, exc)) from None
    return validate_config(raw)


def wrong_hash_for(expected):
    """A valid-looking hash of the same length that differs from expected."""
    digest = hashlib.sha256(("acgs-wrong-hash:" + expected).encode("ascii")).hexdigest()
    candidate = (digest * 2)[:len(expected)]
    if candidate == expected:  # pragma: no cover - astronomically unlikely
        candidate = "0" + candidate[1:] if candidate[0] != "0" else "1" + candidate[1:]
    return candidate


# ---------------------------------------------------------------------------
# Dependency checks
# ---------------------------------------------------------------------------

class DependencyError(Exception):
    """A dependency answered, but not as a healthy one does."""


def describe_error(exc):
    """One short line for an exception, for /health and the log."""
    if isinstance(exc, asyncio.TimeoutError):
        return "check timed out"
    text = str(exc).strip().splitlines()
    text = text[0].strip() if text else ""
    name = type(exc).__name__
    if isinstance(exc, DependencyError):
        return text or name
    return ("%s: %s" % (name, text) if text else name)[:300]


def redis_command(*args):
    """Encode one Redis command as a RESP array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode("utf-8") if isinstance(arg, str) else bytes(arg)
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _reply_text(line):
    return line.decode("utf-8", "replace").strip()


async def _close_writer(writer):
    writer.close()
    try:
        await writer.wait_closed()
    except (OSError, ssl.SSLError):
        pass


async def check_redis(dep):
    """AUTH (when a password is set) then PING; +PONG means up."""
    reader, writer = await asyncio.open_connection(dep["host"], dep["port"])
    try:
        if dep.get("login_password"):
            if dep.get("login_user"):
                writer.write(redis_command("AUTH", dep["login_user"], dep["login_password"]))
            else:
                writer.write(redis_command("AUTH", dep["login_password"]))
            line = await reader.readline()
            if not line.startswith(b"+OK"):
                raise DependencyError("AUTH failed: %s" % (_reply_text(line).lstrip("-") or "connection closed"))
        writer.write(redis_command("PING"))
        line = await reader.readline()
        if line.rstrip(b"\r\n") != b"+PONG":
            raise DependencyError("unexpected reply to PING: %s" % (_reply_text(line).lstrip("-") or "connection closed"))
    finally:
        await _close_writer(writer)
    return {}


async def check_nats(dep):
    """Read INFO, send CONNECT and PING; PONG means up. Records jetstream."""
    reader, writer = await asyncio.open_connection(dep["host"], dep["port"])
    try:
        line = await reader.readline()
        if not line.startswith(b"INFO "):
            raise DependencyError("expected INFO from NATS, got: %s" % (_reply_text(line) or "connection closed"))
        try:
            info = json.loads(line[5:].decode("utf-8"))
        except ValueError:
            raise DependencyError("NATS sent an INFO line that is not JSON") from None
        if not isinstance(info, dict):
            raise DependencyError("NATS sent an INFO line that is not a JSON object")
        connect = {"verbose": False, "pedantic": False, "lang": "python", "version": "acgs-reference", "protocol": 0}
        if dep.get("login_user"):
            connect["user"] = dep["login_user"]
            connect["pass"] = dep.get("login_password") or ""
        if dep.get("token"):
            connect["auth_token"] = dep["token"]
        writer.write(b"CONNECT " + json.dumps(connect, separators=(",", ":")).encode("utf-8") + b"\r\nPING\r\n")
        while True:
            line = await reader.readline()
            if not line:
                raise DependencyError("NATS closed the connection before PONG")
            if line.startswith(b"PONG"):
                break
            if line.startswith(b"-ERR"):
                raise DependencyError("NATS error: %s" % _reply_text(line[4:]).strip("'"))
            if line.startswith(b"PING"):
                writer.write(b"PONG\r\n")
            # +OK and INFO updates are skipped
    finally:
        await _close_writer(writer)
    return {"jetstream": bool(info.get("jetstream", False)), "server_version": info.get("version")}


async def check_http(dep):
    """GET the URL; a 2xx status means up."""
    parts = urlsplit(dep["url"])
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    context = ssl.create_default_context() if https else None
    reader, writer = await asyncio.open_connection(parts.hostname, port, ssl=context)
    try:
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        host = parts.hostname if ":" not in parts.hostname else "[%s]" % parts.hostname
        if parts.port:
            host += ":%d" % parts.port
        request = "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: acgs-reference-service\r\nAccept: */*\r\nConnection: close\r\n\r\n" % (target, host)
        writer.write(request.encode("latin-1"))
        line = await reader.readline()
        fields = line.split(None, 2)
        if len(fields) < 2 or not fields[0].startswith(b"HTTP/") or not fields[1].isdigit():
            raise DependencyError("not an HTTP response: %s" % (_reply_text(line)[:80] or "connection closed"))
        code = int(fields[1])
        if not 200 <= code < 300:
            raise DependencyError("HTTP %d" % code)
    finally:
        await _close_writer(writer)
    return {"http_status": code}


async def _pg_wait(conn):
    """Drive an asynchronous psycopg2 connection until its operation is done."""
    loop = asyncio.get_running_loop()
    while True:
        state = conn.poll()
        if state == psycopg2.extensions.POLL_OK:
            return
        fileno = conn.fileno()
        waiter = loop.create_future()

        def wake(fut=waiter):
            if not fut.done():
                fut.set_result(None)

        if state == psycopg2.extensions.POLL_READ:
            loop.add_reader(fileno, wake)
            remove = loop.remove_reader
        elif state == psycopg2.extensions.POLL_WRITE:
            loop.add_writer(fileno, wake)
            remove = loop.remove_writer
        else:
            raise DependencyError("unexpected psycopg2 poll state %r" % (state,))
        try:
            await waiter
        finally:
            remove(fileno)


class PostgresChecker:
    """Keeps one asynchronous psycopg2 connection and runs SELECT 1 on it.

    On any error (or a timeout) the connection is dropped and a new one is
    made on the next round.
    """

    def __init__(self, dep, timeout, application_name):
        self.dep = dep
        self.timeout = timeout
        self.application_name = application_name[:63]
        self.conn = None

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except psycopg2.Error:  # pragma: no cover
                pass
            self.conn = None

    async def _connect(self):
        dep = self.dep
        kwargs = {
            "host": dep["host"], "port": dep["port"], "dbname": dep["login_db"], "user": dep["login_user"],
            "password": dep["login_password"], "application_name": self.application_name,
            "connect_timeout": max(2, int(self.timeout + 0.999)),
            "options": "-c statement_timeout=%d" % max(1, int(self.timeout * 1000)),
        }
        if not dep["host"].startswith("/"):
            # Resolve here so that libpq's own (blocking) lookup never stalls the loop.
            loop = asyncio.get_running_loop()
            infos = await loop.getaddrinfo(dep["host"], dep["port"], type=socket.SOCK_STREAM)
            kwargs["hostaddr"] = infos[0][4][0]
        conn = psycopg2.connect(async_=True, **kwargs)
        self.conn = conn
        await _pg_wait(conn)

    async def __call__(self, dep):
        if psycopg2 is None:
            raise DependencyError("psycopg2 is not installed")
        try:
            if self.conn is None or self.conn.closed:
                self.conn = None
                await self._connect()
            cursor = self.conn.cursor()
            cursor.execute("SELECT 1")
            await _pg_wait(self.conn)
            row = cursor.fetchone()
            cursor.close()
            if row != (1,):
                raise DependencyError("SELECT 1 returned %r" % (row,))
        except BaseException:
            self.close()
            raise
        return {}


class DependencyMonitor:
    """Checks every dependency each round and keeps the latest results."""

    def __init__(self, service_name, dependencies, timeout, interval, on_change=None):
        self.service_name = service_name
        self.dependencies = dependencies
        self.timeout = timeout
        self.interval = interval
        self.on_change = on_change
        self.checkers = {}
        self.results = collections.OrderedDict()
        for dep in dependencies:
            if dep["type"] == "postgresql":
                self.checkers[dep["name"]] = PostgresChecker(dep, timeout, "acgs:" + service_name)
            else:
                self.checkers[dep["name"]] = {"redis": check_redis, "nats": check_nats, "http": check_http}[dep["type"]]
            self.results[dep["name"]] = {
                "status": "down", "required": dep["required"], "type": dep["type"],
                "latency_ms": None, "error": "not checked yet", "checked_at": None,
            }

    def healthy(self):
        return all(r["status"] == "up" for r in self.results.values() if r["required"])

    async def check_one(self, dep):
        checker = self.checkers[dep["name"]]
        started = time.perf_counter()
        extra = {}
        error = None
        try:
            extra = await asyncio.wait_for(checker(dep), self.timeout)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # Whatever went wrong, the dependency is down and the reason is shown.
            error = describe_error(exc)
            if isinstance(exc, asyncio.TimeoutError):
                error = "check timed out after %gs" % self.timeout
        elapsed_ms = round((time.perf_counter() - started) * 1000.0, 3)
        previous = self.results[dep["name"]]
        result = {
            "status": "up" if error is None else "down", "required": dep["required"], "type": dep["type"],
            "latency_ms": elapsed_ms, "error": error, "checked_at": round(time.time(), 3),
        }
        result.update(extra or {})
        self.results[dep["name"]] = result
        if previous["checked_at"] is None or previous["status"] != result["status"]:
            if self.on_change is not None:
                self.on_change(dep, previous, result)

    async def check_all(self):
        if self.dependencies:
            await asyncio.gather(*(self.check_one(dep) for dep in self.dependencies))

    async def run(self):
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await self.check_all()
            await asyncio.sleep(max(0.0, self.interval - (loop.time() - started)))

    def close(self):
        for checker in self.checkers.values():
            if isinstance(checker, PostgresChecker):
                checker.close()


# ---------------------------------------------------------------------------
# The compliance cache: Redis spoken in RESP over a few persistent connections
# ---------------------------------------------------------------------------

class RedisReplyError(DependencyError):
    """An error reply (-ERR ..., -WRONGPASS ...) from Redis."""


class CacheUnavailable(DependencyError):
    """No usable connection to Redis: refused, lost, or no answer in time."""


def parse_reply(buf, start=0):
    """Parse one RESP2 reply from buf (bytes or bytearray) at offset start.

    Returns (value, end offset) or None while the reply is incomplete. value is bytes
    (simple and bulk strings), int, None (nil), a list (arrays) or a RedisReplyError
    (returned, not raised, so that the replies after it in a pipeline are still read).
    Raises ValueError for bytes that are not RESP.
    """
    end = buf.find(b"\r\n", start)
    if end < 0:
        return None
    kind = buf[start:start + 1]
    line = bytes(buf[start + 1:end])
    if kind == b"+":
        return line, end + 2
    if kind == b"-":
        return RedisReplyError(line.decode("utf-8", "replace")), end + 2
    if kind == b":":
        return int(line), end + 2
    if kind == b"$":
        size = int(line)
        if size < 0:
            return None, end + 2
        stop = end + 2 + size
        if len(buf) < stop + 2:
            return None
        if buf[stop:stop + 2] != b"\r\n":
            raise ValueError("bulk string of %d bytes not followed by CRLF" % size)
        return bytes(buf[end + 2:stop]), stop + 2
    if kind == b"*":
        count = int(line)
        if count < 0:
            return None, end + 2
        items = []
        pos = end + 2
        for _index in range(count):
            parsed = parse_reply(buf, pos)
            if parsed is None:
                return None
            item, pos = parsed
            items.append(item)
        return items, pos
    raise ValueError("not a RESP reply: %r" % bytes(buf[start:end][:40]))


def _reply_future(loop):
    """A future and the reply callback (value, error) that resolves it."""
    future = loop.create_future()

    def resolve(value, error):
        if not future.done():
            if error is None:
                future.set_result(value)
            else:
                future.set_exception(error)

    return future, resolve


class RedisConnection(asyncio.Protocol):
    """One connection of the cache's pool: commands pipelined, replies matched in order.

    Each command has a callback, called as callback(value, error) with its reply (error a
    RedisReplyError) or with the connection's failure; callbacks, not futures, so that a
    request's lookup costs no extra turn of the event loop. A command is written at once
    (requests for one key share its GET, so there is little to batch, and a turn saved is
    latency saved). Any error (the connection lost, bytes that are not RESP, a reply not asked
    for) fails every command waiting and drops the connection; the pool makes a new one.
    """

    def __init__(self, pool):
        self.pool = pool
        self.transport = None
        self.buffer = bytearray()
        self.waiting = collections.deque()  # (callback, loop time sent)
        self.failed = False

    def connection_made(self, transport):
        self.transport = transport

    def send(self, command, callback):
        """Write one encoded command; callback(value, error) gets its reply."""
        self.waiting.append((callback, self.pool.loop.time()))
        self.transport.write(command)

    @staticmethod
    def _call(callback, value, error):
        try:
            callback(value, error)
        except Exception:  # pylint: disable=broad-exception-caught
            # A bug answering one request must not break the connection the others wait on.
            LOG.exception("cache: a reply's callback failed")

    def data_received(self, data):
        buf = self.buffer
        buf += data
        pos = 0
        try:
            while self.waiting:
                parsed = parse_reply(buf, pos)
                if parsed is None:
                    break
                value, pos = parsed
                callback = self.waiting.popleft()[0]
                if isinstance(value, RedisReplyError):
                    self._call(callback, None, value)
                else:
                    self._call(callback, value, None)
        except ValueError as exc:
            self.fail(CacheUnavailable("Redis sent bytes that are not RESP: %s" % exc))
            return
        if pos:
            del buf[:pos]
        if buf and not self.waiting:
            self.fail(CacheUnavailable("Redis sent a reply nothing asked for"))

    def connection_lost(self, exc):
        self.transport = None
        self.fail(CacheUnavailable("connection to Redis lost: %s" % describe_error(exc) if exc else "Redis closed the connection"))

    def fail(self, exc):
        """Drop the connection; every command waiting on it fails with exc."""
        if self.failed:
            return
        self.failed = True
        waiting, self.waiting = self.waiting, collections.deque()
        for callback, _sent in waiting:
            self._call(callback, None, exc)
        if self.transport is not None:
            self.transport.abort()
        self.pool.lost(self, exc)


class CacheLookup:
    """One GET of a key, shared by every request that asks for the key while it is in flight.

    Called with the reply (the GET's callback), it calls each waiter; ``body`` is the evaluation
    the first request of a miss made and stored, which the others answer with.
    """

    __slots__ = ("key", "done", "value", "error", "waiters", "body")

    def __init__(self, key):
        self.key = key
        self.done = False
        self.value = None
        self.error = None
        self.waiters = []
        self.body = None

    def __call__(self, value, error):
        self.done = True
        self.value = value
        self.error = error
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            waiter()


class RedisCache:
    """The compliance cache: a pool of persistent connections to one Redis dependency.

    get() never waits for a connection: with none ready it returns False at once (the
    request is evaluated and counted as a cache error). A keeper task reconnects (with
    backoff, AUTH when the dependency has a password) and fails any command older
    than ``timeout``, so that no request waits for Redis longer than about 1.5 x that.
    """

    def __init__(self, dep, ttl, timeout, size):
        self.dep = dep
        self.ttl_ms = str(max(1, int(round(ttl * 1000))))
        self.timeout = timeout
        self.connect_timeout = max(1.0, timeout)
        self.size = size
        self.loop = None
        self.ready = []
        self.connecting = 0
        self.turn = 0
        self.retry_at = 0.0
        self.backoff = 0.1
        self.keeper = None
        self.connects = set()  # reconnect tasks in progress (referenced until done)
        self.closed = False
        self.up = None
        self.hits = 0
        self.misses = 0
        self.errors = {"get": 0, "set": 0}

    def where(self):
        return "%s (%s:%d)" % (self.dep["name"], self.dep["host"], self.dep["port"])

    def _state(self, up, error=None):
        if up != self.up:
            self.up = up
            if up:
                LOG.info("cache: connected to Redis %s", self.where())
            else:
                LOG.warning("cache: Redis %s unavailable, evaluating every request: %s", self.where(), error)

    async def start(self):
        """Open the pool (bounded by the connect timeout; failures leave it to the keeper)."""
        self.loop = asyncio.get_running_loop()
        await asyncio.gather(*(self._connect() for _index in range(self.size)))
        self.keeper = self.loop.create_task(self._keep())

    async def _connect(self):
        self.connecting += 1
        conn = None
        try:
            _transport, conn = await asyncio.wait_for(
                self.loop.create_connection(lambda: RedisConnection(self), self.dep["host"], self.dep["port"]), self.connect_timeout)
            if self.dep.get("login_password"):
                args = ("AUTH", self.dep["login_user"], self.dep["login_password"]) if self.dep.get("login_user") \
                    else ("AUTH", self.dep["login_password"])
                future, resolve = _reply_future(self.loop)
                conn.send(redis_command(*args), resolve)
                await asyncio.wait_for(future, self.connect_timeout)
            if self.closed or conn.failed:
                raise CacheUnavailable("connection closed while opening it")
            self.ready.append(conn)
            self.backoff = 0.1
            self._state(True)
        except asyncio.CancelledError:
            if conn is not None:
                conn.fail(CacheUnavailable("cache closed"))
            raise
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # Refused, timed out, AUTH refused: the cache is down until the keeper reconnects.
            if conn is not None:
                conn.fail(CacheUnavailable(describe_error(exc)))
            self.retry_at = self.loop.time() + self.backoff
            self.backoff = min(2.0, self.backoff * 2)
            if not self.ready and not self.closed:
                self._state(False, "no answer within %gs" % self.connect_timeout if isinstance(exc, asyncio.TimeoutError) else describe_error(exc))
        finally:
            self.connecting -= 1

    async def _keep(self):
        interval = min(0.1, self.timeout / 2.0)
        while not self.closed:
            await asyncio.sleep(interval)
            now = self.loop.time()
            for conn in list(self.ready):
                if conn.waiting and now - conn.waiting[0][1] > self.timeout:
                    conn.fail(CacheUnavailable("Redis did not answer within %gs" % self.timeout))
            if len(self.ready) + self.connecting < self.size and now >= self.retry_at:
                task = self.loop.create_task(self._connect())
                self.connects.add(task)
                task.add_done_callback(self.connects.discard)

    def lost(self, conn, exc):
        if conn in self.ready:
            self.ready.remove(conn)
            if not self.ready and not self.closed:
                self._state(False, describe_error(exc))

    def _pick(self):
        """The next ready connection round the pool; None when none is ready."""
        ready = self.ready
        if not ready:
            return None
        self.turn = (self.turn + 1) % len(ready)
        return ready[self.turn]

    def get(self, command, callback):
        """Send a GET whose reply goes to callback(value, error); False when no connection is ready."""
        conn = self._pick()
        if conn is None:
            return False
        conn.send(command, callback)
        return True

    def store(self, key, value):
        """SET key value with the TTL; a failure is counted, never waited for."""
        conn = self._pick()
        if conn is None:
            self.errors["set"] += 1
            return
        conn.send(redis_command("SET", key, value, "PX", self.ttl_ms), self._stored)

    def _stored(self, _value, error):
        if error is not None:
            self.errors["set"] += 1

    def counters(self):
        return {"hits": self.hits, "misses": self.misses, "errors": dict(self.errors), "connections": len(self.ready)}

    def close(self):
        self.closed = True
        if self.keeper is not None:
            self.keeper.cancel()
        for task in list(self.connects):
            task.cancel()
        for conn in list(self.ready):
            conn.fail(CacheUnavailable("cache closed"))


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------

def escape_label(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    """Request counters and the response-time histogram, rendered by hand."""

    def __init__(self):
        self.requests = {}
        self.errors = {endpoint: 0 for endpoint in ENDPOINTS + (OTHER_ENDPOINT,)}
        self.histograms = {}
        for endpoint in ENDPOINTS + (OTHER_ENDPOINT,):
            self.histograms[endpoint] = [[0] * (len(HISTOGRAM_BUCKETS) + 1), 0.0]

    def observe(self, method, endpoint, status, seconds):
        key = (method, endpoint, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        if status >= 500:
            self.errors[endpoint] += 1
        hist = self.histograms[endpoint]
        hist[0][bisect.bisect_left(HISTOGRAM_BUCKETS, seconds)] += 1
        hist[1] += seconds

    def render(self, service, version, reported_hash, expected_hash, healthy, dependencies, in_flight=0, cache=None):
        svc = 'service="%s"' % escape_label(service)
        out = [
            "# HELP acgs_service_up 1 when the service is healthy (every required dependency up), else 0.",
            "# TYPE acgs_service_up gauge",
            "acgs_service_up{%s} %d" % (svc, 1 if healthy else 0),
            "# HELP acgs_service_info Version and constitutional hash the service reports.",
            "# TYPE acgs_service_info gauge",
            'acgs_service_info{%s,version="%s",constitutional_hash="%s"} 1' % (svc, escape_label(version), escape_label(reported_hash)),
            "# HELP acgs_constitutional_compliance 1 when the reported constitutional hash equals the expected one, else 0.",
            "# TYPE acgs_constitutional_compliance gauge",
            "acgs_constitutional_compliance{%s} %d" % (svc, 1 if reported_hash == expected_hash else 0),
            "# HELP acgs_dependency_up 1 when the dependency's last check succeeded, else 0.",
            "# TYPE acgs_dependency_up gauge",
        ]
        for name, result in dependencies.items():
            out.append('acgs_dependency_up{%s,dependency="%s"} %d' % (svc, escape_label(name), 1 if result["status"] == "up" else 0))
        out += ["# HELP acgs_requests_in_flight Requests received and not yet answered.", "# TYPE acgs_requests_in_flight gauge",
                "acgs_requests_in_flight{%s} %d" % (svc, in_flight)]
        out += ["# HELP acgs_requests_total HTTP requests answered.", "# TYPE acgs_requests_total counter"]
        for (method, endpoint, status), count in sorted(self.requests.items()):
            out.append('acgs_requests_total{%s,method="%s",endpoint="%s",status="%d"} %d' % (svc, method, escape_label(endpoint), status, count))
        out += ["# HELP acgs_errors_total HTTP requests answered with a 5xx status.", "# TYPE acgs_errors_total counter"]
        for endpoint, count in self.errors.items():
            out.append('acgs_errors_total{%s,endpoint="%s"} %d' % (svc, escape_label(endpoint), count))
        if cache is not None:
            out += ["# HELP acgs_cache_hits_total Compliance requests answered from the Redis cache.",
                    "# TYPE acgs_cache_hits_total counter", "acgs_cache_hits_total{%s} %d" % (svc, cache["hits"]),
                    "# HELP acgs_cache_misses_total Compliance requests the cache had no entry for (evaluated and stored).",
                    "# TYPE acgs_cache_misses_total counter", "acgs_cache_misses_total{%s} %d" % (svc, cache["misses"]),
                    "# HELP acgs_cache_errors_total Cache operations that failed (Redis unreachable, slow or erring); "
                    "a failed get's request was evaluated and answered.",
                    "# TYPE acgs_cache_errors_total counter"]
            for operation, count in sorted(cache["errors"].items()):
                out.append('acgs_cache_errors_total{%s,operation="%s"} %d' % (svc, operation, count))
            out += ["# HELP acgs_cache_connections Open connections of the cache's pool to Redis.",
                    "# TYPE acgs_cache_connections gauge", "acgs_cache_connections{%s} %d" % (svc, cache["connections"])]
        out += ["# HELP acgs_response_time_seconds Time from a request's arrival to its response.",
                "# TYPE acgs_response_time_seconds histogram"]
        for endpoint, (counts, total) in self.histograms.items():
            labels = '%s,endpoint="%s"' % (svc, escape_label(endpoint))
            cumulative = 0
            for bound, count in zip(HISTOGRAM_BUCKETS, counts):
                cumulative += count
                out.append('acgs_response_time_seconds_bucket{%s,le="%s"} %d' % (labels, repr(bound), cumulative))
            cumulative += counts[-1]
            out.append('acgs_response_time_seconds_bucket{%s,le="+Inf"} %d' % (labels, cumulative))
            out.append("acgs_response_time_seconds_sum{%s} %s" % (labels, repr(total)))
            out.append("acgs_response_time_seconds_count{%s} %d" % (labels, cumulative))
        return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------

class HttpError(Exception):
    """A request that cannot be parsed; answered with status, then closed."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def parse_request(buf):
    """Parse one request from the start of buf (bytes or bytearray).

    Returns None while the request is incomplete, else a tuple
    (consumed_bytes, method, target, keep_alive). Raises HttpError.
    """
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if len(buf) > MAX_HEAD_BYTES:
            raise HttpError(431, "request head too large")
        return None
    if end > MAX_HEAD_BYTES:
        raise HttpError(431, "request head too large")
    lines = bytes(buf[:end]).split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise HttpError(400, "malformed request line")
    method, target, version = parts
    if version == b"HTTP/1.1":
        keep_alive = True
    elif version == b"HTTP/1.0":
        keep_alive = False
    elif version.startswith(b"HTTP/"):
        raise HttpError(505, "HTTP version not supported")
    else:
        raise HttpError(400, "malformed request line")
    if not method.isalpha() or not method.isupper():
        raise HttpError(400, "malformed method")
    length = 0
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip():
            raise HttpError(400, "malformed header line")
        lname = name.lower()
        if lname == b"content-length":
            value = value.strip()
            if not value.isdigit():
                raise HttpError(400, "bad Content-Length")
            length = int(value)
            if length > MAX_BODY_BYTES:
                raise HttpError(413, "request body too large")
        elif lname == b"transfer-encoding":
            raise HttpError(501, "Transfer-Encoding is not supported")
        elif lname == b"connection":
            tokens = [t.strip() for t in value.lower().split(b",")]
            if b"close" in tokens:
                keep_alive = False
            elif b"keep-alive" in tokens:
                keep_alive = True
    consumed = end + 4 + length
    if len(buf) < consumed:
        return None
    target = target.decode("latin-1")
    if target.startswith(("http://", "https://")):
        path_start = target.find("/", target.find("//") + 2)
        target = target[path_start:] if path_start >= 0 else "/"
    return consumed, method.decode("ascii"), target, keep_alive


class HttpConnection(asyncio.Protocol):
    """One client connection: parses pipelined requests and answers them in order."""

    def __init__(self, service):
        self.service = service
        self.transport = None
        self.buffer = bytearray()
        self.pending = collections.deque()
        self.worker = None
        self.lookup = None  # the CacheLookup the first pending request waits for
        self.closing = False

    # asyncio callbacks

    def connection_made(self, transport):
        self.transport = transport
        self.service.connections.add(self)
        if self.service.draining:
            self.close()

    def connection_lost(self, exc):
        self.transport = None
        self.closing = True
        self.pending.clear()
        if self.worker is not None:
            self.worker.cancel()
            self.worker = None
        self.service.connection_done(self)

    def pause_writing(self):
        # The client does not read its responses: stop reading its requests.
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self):
        if self.transport is not None and not self.closing:
            self.transport.resume_reading()

    def data_received(self, data):
        if self.closing:
            return
        buf = self.buffer
        buf += data
        now = time.perf_counter()
        while buf:
            while buf[:2] == b"\r\n":
                del buf[:2]
            try:
                parsed = parse_request(buf)
            except HttpError as exc:
                buf.clear()
                self.closing = True  # read nothing more; answer what came before, then this
                self.pending.append((None, exc, False, now))
                break
            if parsed is None:
                break
            consumed, method, target, keep_alive = parsed
            del buf[:consumed]
            self.pending.append((method, target, keep_alive, now))
            if not keep_alive:
                buf.clear()
                self.closing = True
                break
        self._run()

    # request processing

    def busy(self):
        return bool(self.pending or self.worker is not None or self.lookup is not None or self.buffer)

    def close(self):
        self.closing = True
        if self.transport is not None:
            self.transport.close()

    def _run(self):
        if self.worker is not None or self.lookup is not None or not self.pending:
            return
        if self.service.faults["latency_ms"] > 0:
            self.worker = asyncio.get_running_loop().create_task(self._work())
            return
        service = self.service
        while self.pending and self.transport is not None:
            request = self.pending.popleft()
            response = self._respond(request)
            if isinstance(response, CacheLookup):
                if not response.done:
                    # Still pending; answered (in order) when Redis replies, fails, or the cache's timeout passes.
                    self.pending.appendleft(request)
                    self.lookup = response
                    response.waiters.append(self._looked_up)
                    return
                response = service.finish(response)
            self._answer(request, response)

    def _looked_up(self):
        lookup, self.lookup = self.lookup, None
        response = self.service.finish(lookup)
        if self.transport is None or not self.pending:
            return
        self._answer(self.pending.popleft(), response)
        self._run()
        if self.transport is not None and not self.busy() and self.service.draining:
            self.close()
        self.service.connection_done(None)

    async def _work(self):
        try:
            while self.pending and self.transport is not None:
                method, target, _keep_alive, _now = self.pending[0]
                delay = self.service.faults["latency_ms"] / 1000.0
                if delay > 0 and method is not None and target.split("?", 1)[0] != METRICS_PATH:
                    await asyncio.sleep(delay)  # the injected latency fault
                if self.transport is None:
                    break
                request = self.pending.popleft()
                response = self._respond(request)
                if isinstance(response, CacheLookup):
                    if not response.done:
                        self.pending.appendleft(request)
                        waiter, resolve = _reply_future(asyncio.get_running_loop())
                        response.waiters.append(lambda: resolve(None, None))
                        await waiter
                        if self.transport is None:
                            break
                        self.pending.popleft()
                    response = self.service.finish(response)
                self._answer(request, response)
        finally:
            self.worker = None
            if self.transport is not None and not self.busy() and self.service.draining:
                self.close()
            self.service.connection_done(None)

    def _respond(self, request):
        """The response to request, or a CacheLookup to finish once Redis answered."""
        method, target = request[0], request[1]
        if method is None:
            return self.service.error_response(target.status, target.message)
        return self.service.respond(method, target.split("?", 1)[0])

    def _answer(self, request, response):
        method, _target, keep_alive, started = request
        service = self.service
        status, endpoint, headers, body = response
        if method is None:
            method_label, head_only, keep_alive = "OTHER", False, False
        else:
            method_label = method if method in KNOWN_METHODS else "OTHER"
            head_only = method == "HEAD"
        if service.draining and not self.pending:
            keep_alive = False
        self.transport.write(b"".join((
            b"HTTP/1.1 %d %s\r\n" % (status, REASONS.get(status, "Unknown").encode("ascii")),
            service.common_headers, headers,
            b"Content-Length: %d\r\nConnection: %s\r\n\r\n" % (len(body), b"keep-alive" if keep_alive else b"close"),
            b"" if head_only else body,
        )))
        service.metrics.observe(method_label, endpoint, status, time.perf_counter() - started)
        if not keep_alive:
            self.pending.clear()
            self.close()


class Service:
    """The reference ACGS service: HTTP front, dependency monitor, faults, drain."""

    def __init__(self, config, config_path=None):
        self.config = config
        self.config_path = config_path
        self.name = config["name"]
        self.expected_hash = config["constitutional_hash"]
        self.version = config["version"]
        self.faults = dict(config["faults"])
        self.fault_counts = {}
        self.reported_hash = self.expected_hash
        self.common_headers = b""
        self.cache = None
        cache = config["cache"]
        if cache["dependency"] is not None:
            dep = [d for d in config["dependencies"] if d["name"] == cache["dependency"]][0]
            self.cache = RedisCache(dep, cache["ttl"], cache["timeout"], cache["pool_size"])
        self.cache_key = None
        self.cache_get = None
        self.cache_lookup = None  # the GET in flight, shared
        self._apply_identity()
        self.metrics = Metrics()
        self.monitor = DependencyMonitor(self.name, config["dependencies"], config["check_timeout"],
                                         config["check_interval"], on_change=self._dependency_changed)
        self.started_at = time.monotonic()
        self.connections = set()
        self.draining = False
        self.idle_grace = False
        self.server = None
        self.port = None
        self.monitor_task = None
        self.stop_requested = None
        self.drained = None
        self.last_healthy = None
        self.stop_reason = None

    # identity and faults

    def _apply_identity(self):
        self.reported_hash = wrong_hash_for(self.expected_hash) if self.faults["wrong_hash"] else self.expected_hash
        self.common_headers = ("Server: acgs-reference-service\r\nX-Constitutional-Hash: %s\r\nX-ACGS-Version: %s\r\n" % (
            self.reported_hash, self.version.replace("\r", "").replace("\n", ""))).encode("utf-8")
        # The cached evaluation is of this name, version and reported hash: a slot with the
        # wrong_hash fault (or another release) never answers with another one's entry.
        self.cache_key = "acgs:%s:compliance:%s:%s" % (self.name, self.version, self.reported_hash)
        self.cache_get = redis_command("GET", self.cache_key)

    def _injected_error(self, endpoint):
        """error_rate, spread evenly over each endpoint's requests: request n fails when
        floor(n * rate) steps up. Exactly that fraction fails, the same way in every drill, and the
        first requests of a rate below 1/2 succeed (a deploy's smoke request passes; its analysis fails)."""
        rate = self.faults["error_rate"]
        if rate <= 0:
            return False
        count = self.fault_counts.get(endpoint, 0) + 1
        self.fault_counts[endpoint] = count
        return math.floor(count * rate) > math.floor((count - 1) * rate)

    def reload(self):
        """SIGHUP: take version and faults from the config file again."""
        if not self.config_path:
            LOG.warning("SIGHUP: no config file to reload")
            return False
        try:
            fresh = load_config(self.config_path)
        except ConfigError as exc:
            LOG.error("SIGHUP: config not reloaded, keeping the running one: %s", exc)
            return False
        self.version = fresh["version"]
        self.faults = dict(fresh["faults"])
        self._apply_identity()
        LOG.info("SIGHUP: reloaded version=%s faults=%s", self.version, json.dumps(self.faults, sort_keys=True))
        return True

    # state

    def healthy(self):
        return self.monitor.healthy()

    def _dependency_changed(self, dep, _previous, result):
        LOG.info("dependency %s (%s%s) is %s%s", dep["name"], dep["type"], ", required" if dep["required"] else "", result["status"],
                 ": %s" % result["error"] if result["error"] else "")
        if self.server is not None:
            healthy = self.healthy()
            if healthy != self.last_healthy:
                LOG.info("service is now %s", "healthy" if healthy else "unhealthy")
                self.last_healthy = healthy

    # responses: (status, endpoint label, extra header bytes, body bytes)

    def _json(self, status, endpoint, document):
        return status, endpoint, b"Content-Type: application/json\r\n", json.dumps(document, separators=(",", ":")).encode("utf-8")

    def error_response(self, status, message, endpoint=OTHER_ENDPOINT, path=None):
        document = {"status": "error", "error": message, "service": self.name, "version": self.version,
                    "constitutional_hash": self.reported_hash}
        if path is not None:
            document["path"] = path
        return self._json(status, endpoint, document)

    def respond(self, method, path):
        if path in ENDPOINTS:
            endpoint = path
        else:
            endpoint = OTHER_ENDPOINT
            return self.error_response(404, "not found", path=path[:200])
        if method not in ("GET", "HEAD"):
            status, endpoint, headers, body = self.error_response(405, "method not allowed", endpoint, path)
            return status, endpoint, headers + b"Allow: GET, HEAD\r\n", body
        if endpoint == METRICS_PATH:
            in_flight = sum(len(connection.pending) for connection in self.connections)
            text = self.metrics.render(self.name, self.version, self.reported_hash, self.expected_hash,
                                       self.healthy(), self.monitor.results, in_flight,
                                       cache=self.cache.counters() if self.cache is not None else None)
            return 200, endpoint, b"Content-Type: " + METRICS_TYPE.encode("ascii") + b"\r\n", text.encode("utf-8")
        if self._injected_error(endpoint):
            return self.error_response(500, "injected fault: error_rate", endpoint)
        if endpoint == HEALTH_PATH:
            return self.health(endpoint)
        if self.cache is None:
            return 200, endpoint, COMPLIANCE_HEADERS[None], self.evaluate_compliance()
        lookup = self.cache_lookup
        if lookup is None or lookup.done or lookup.key != self.cache_key:
            # No GET of the key in flight: send one; requests arriving before its reply share it.
            lookup = CacheLookup(self.cache_key)
            if not self.cache.get(self.cache_get, lookup):
                self.cache.errors["get"] += 1
                return 200, endpoint, COMPLIANCE_HEADERS["error"], self.evaluate_compliance()
            self.cache_lookup = lookup
        return lookup

    def evaluate_compliance(self):
        """The compliance status body: the work the cache saves."""
        return json.dumps({
            "status": "success", "version": self.version,
            "data": {"constitutional_hash": self.reported_hash, "compliant": self.reported_hash == self.expected_hash,
                     "service": self.name, "version": self.version},
        }, separators=(",", ":")).encode("utf-8")

    def finish(self, lookup):
        """The compliance response once its cache lookup is done: a hit is served as stored,
        a miss is evaluated and stored, a failed lookup is evaluated and counted as an error."""
        cache = self.cache
        if lookup.error is None:
            value = lookup.value
            if isinstance(value, bytes) and value:
                cache.hits += 1
                return 200, COMPLIANCE_PATH, COMPLIANCE_HEADERS["hit"], value
            cache.misses += 1
            if lookup.body is None:
                lookup.body = self.evaluate_compliance()
                if lookup.key == self.cache_key:  # not when SIGHUP changed the identity meanwhile
                    cache.store(lookup.key, lookup.body)
            return 200, COMPLIANCE_PATH, COMPLIANCE_HEADERS["miss"], lookup.body
        cache.errors["get"] += 1
        return 200, COMPLIANCE_PATH, COMPLIANCE_HEADERS["error"], self.evaluate_compliance()

    def health(self, endpoint=HEALTH_PATH):
        healthy = self.healthy()
        dependencies = {}
        for name, result in self.monitor.results.items():
            entry = dict(result)
            del entry["checked_at"]
            dependencies[name] = entry
        return self._json(200 if healthy else 503, endpoint, {
            "status": "healthy" if healthy else "unhealthy", "service": self.name, "version": self.version,
            "constitutional_hash": self.reported_hash, "uptime_seconds": round(time.monotonic() - self.started_at, 3),
            "dependencies": dependencies,
        })

    # lifecycle

    async def start(self, install_signal_handlers=False):
        """Check the dependencies once, then listen. Returns the bound port."""
        loop = asyncio.get_running_loop()
        self.stop_requested = asyncio.Event()
        self.drained = asyncio.Event()
        if install_signal_handlers:
            loop.add_signal_handler(signal.SIGTERM, self.on_sigterm)
            loop.add_signal_handler(signal.SIGINT, self.request_stop, "SIGINT")
            loop.add_signal_handler(signal.SIGHUP, self.reload)
        await self.monitor.check_all()
        if self.cache is not None:
            await self.cache.start()
        self.last_healthy = self.healthy()
        self.server = await loop.create_server(lambda: HttpConnection(self), self.config["listen_host"],
                                               self.config["listen_port"], reuse_address=True, backlog=1024)
        self.port = self.server.sockets[0].getsockname()[1]
        self.monitor_task = loop.create_task(self.monitor.run())
        cache = self.config["cache"]
        LOG.info("started %s %s on %s:%d (hash %s, %s, %d dependencies, faults %s, %s)", self.name, self.version,
                 self.config["listen_host"], self.port, self.reported_hash, "healthy" if self.last_healthy else "unhealthy",
                 len(self.config["dependencies"]), json.dumps(self.faults, sort_keys=True),
                 "compliance cached in %s for %gs" % (cache["dependency"], cache["ttl"]) if self.cache is not None else "no cache")
        return self.port

    def request_stop(self, reason):
        if self.stop_requested is not None and not self.stop_requested.is_set():
            self.stop_reason = reason
            LOG.info("%s: draining (up to %gs)", reason, self.config["drain_seconds"])
            self.stop_requested.set()

    def on_sigterm(self):
        if self.faults["ignore_sigterm"]:
            LOG.warning("SIGTERM ignored (fault ignore_sigterm)")
            return
        self.request_stop("SIGTERM")

    def connection_done(self, connection):
        if connection is not None:
            self.connections.discard(connection)
        if self.draining and self.drained is not None and not any(c.busy() for c in self.connections):
            if not self.idle_grace:
                for idle in list(self.connections):
                    idle.close()
            if not self.connections:
                self.drained.set()

    async def drain(self):
        """Stop listening, finish requests in flight, close idle connections after drain_idle_seconds."""
        self.draining = True
        self.idle_grace = True
        started = time.monotonic()
        if self.server is not None:
            self.server.close()
        # Every answer from now on says Connection: close; an idle connection may still bring a request.
        if self.connections:
            try:
                await asyncio.wait_for(self.drained.wait(), min(self.config["drain_idle_seconds"], self.config["drain_seconds"]))
            except asyncio.TimeoutError:
                pass
        self.idle_grace = False
        for connection in list(self.connections):
            if not connection.busy():
                connection.close()
        self.connection_done(None)
        if not self.connections:
            self.drained.set()
        try:
            await asyncio.wait_for(self.drained.wait(), max(0.0, self.config["drain_seconds"] - (time.monotonic() - started)))
        except asyncio.TimeoutError:
            LOG.warning("drain time of %gs elapsed with %d connection(s) still busy; closing them",
                        self.config["drain_seconds"], sum(1 for c in self.connections if c.busy()))
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.abort()
        if self.monitor_task is not None:
            self.monitor_task.cancel()
            try:
                await self.monitor_task
            except asyncio.CancelledError:
                pass
        self.monitor.close()
        if self.cache is not None:
            self.cache.close()
        LOG.info("stopped %s after %.3fs of draining", self.name, time.monotonic() - started)


def systemd_watchdog_interval(environ=None):
    """Seconds between two WATCHDOG=1 notifications (half of systemd's WatchdogSec), or None when systemd
    watches no process or another one (sd_watchdog_enabled(3): WATCHDOG_USEC, WATCHDOG_PID, NOTIFY_SOCKET)."""
    environ = os.environ if environ is None else environ
    try:
        usec = int(environ.get("WATCHDOG_USEC", "0"))
        pid = int(environ.get("WATCHDOG_PID", os.getpid()))
    except ValueError:
        return None
    if usec <= 0 or pid != os.getpid() or not environ.get("NOTIFY_SOCKET"):
        return None
    return usec / 2e6


async def systemd_watchdog(interval, address=None):
    """Tell systemd, every interval, that the event loop still runs (sd_notify WATCHDOG=1): a slot whose loop
    hangs stops telling it, and systemd kills and restarts it (WatchdogSec=, Restart=on-failure)."""
    address = address or os.environ["NOTIFY_SOCKET"]
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        while True:
            try:
                sock.sendto(b"WATCHDOG=1", address)
            except OSError as exc:
                LOG.warning("systemd watchdog notification failed: %s", exc)
            await asyncio.sleep(interval)


async def serve(config, config_path):
    service = Service(config, config_path)
    try:
        await service.start(install_signal_handlers=True)
    except OSError as exc:
        LOG.error("cannot listen on %s:%s: %s", config["listen_host"], config["listen_port"], exc)
        service.monitor.close()
        if service.cache is not None:
            service.cache.close()
        return 1
    interval = systemd_watchdog_interval()
    watchdog = asyncio.get_running_loop().create_task(systemd_watchdog(interval)) if interval else None
    await service.stop_requested.wait()
    await service.drain()
    if watchdog is not None:
        watchdog.cancel()
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description="Reference ACGS service")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--config", help="JSON config file to serve with")
    group.add_argument("--check-config", metavar="FILE", help="validate a JSON config file and exit")
    args = parser.parse_args(argv)
    path = args.config or args.check_config
    try:
        config = load_config(path)
    except ConfigError as exc:
        sys.stderr.write("acgs_service: %s\n" % exc)
        return 2
    if args.check_config:
        sys.stdout.write("acgs_service: config %s is good\n" % path)
        return 0
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s acgs_service[" + config["name"].replace("%", "%%") + "] %(levelname)s %(message)s")
    return asyncio.run(serve(config, path))


if __name__ == "__main__":
    sys.exit(main())

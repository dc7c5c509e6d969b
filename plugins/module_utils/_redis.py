# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: Redis for acgs_health and acgs_backup.

redis-py does the talking (AUTH, PING, INFO, SCAN, DUMP/RESTORE); one connect()
classifies failures (auth, refused, timeout) with the password scrubbed. The only
hand-written protocol code is the replication stream that takes a snapshot (see
stream_snapshot). Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.acgs.platform.plugins.module_utils import _connection
from ansible_collections.acgs.platform.plugins.module_utils._connection import ConnectionFailed
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError, describe_error, fmt_seconds, scrub
from ansible_collections.acgs.platform.plugins.module_utils._libraries import load_library

CHUNK_SIZE = 1024 * 1024


def argument_spec():
    """The Redis connection options (acgs.platform.connection fragment)."""
    return _connection.connection_argument_spec(unix_socket=dict(type="path"))


def resolve(params, **defaults):
    """A copy of ``params`` with every connection option filled in."""
    return _connection.resolve(params, "redis", **defaults)


def classify(err, timeout):
    """(kind, message) for a redis-py error."""
    exceptions = load_library("redis").exceptions
    text = to_native(err)
    if isinstance(err, exceptions.AuthenticationError) or isinstance(err, exceptions.ResponseError) and (
            "NOAUTH" in text or "WRONGPASS" in text or "invalid password" in text.lower()):
        return "auth", "authentication failed: %s" % text
    if isinstance(err, exceptions.TimeoutError):
        return "timeout", "timed out after %ss" % fmt_seconds(timeout)
    if isinstance(err, exceptions.ConnectionError):
        kind, message = describe_error(err, timeout)
        if kind == "error":
            kind, message = ("refused", "connection refused") if "refused" in text.lower() else (kind, text)
        return kind, message
    return "error", "Redis error: %s" % text


def connect(params, **extra):
    """A redis-py client for resolved ``params`` that answered PING.

    ``extra`` goes to redis.Redis (TLS settings). Raises ConnectionFailed naming
    what failed, never the password.
    """
    redis = load_library("redis")
    if redis is None:
        raise ConnectionFailed("Redis", params, "error", "the Python library redis is required")
    timeout = float(params["connect_timeout"])
    kwargs = dict(db=params.get("redis_db") or 0, socket_timeout=timeout, socket_connect_timeout=timeout,
                  username=params.get("login_user"), password=params.get("login_password"))
    if params.get("unix_socket"):
        kwargs["unix_socket_path"] = params["unix_socket"]
    else:
        kwargs.update(host=params["host"], port=params["port"])
    retry, backoff = load_library("redis.retry"), load_library("redis.backoff")
    if retry is not None and backoff is not None:
        # redis-py retries by default: callers retry themselves, so one try means one timeout.
        kwargs["retry"] = retry.Retry(backoff.NoBackoff(), 0)
    kwargs.update(extra)
    client = redis.Redis(**kwargs)
    try:
        client.ping()
    except redis.exceptions.RedisError as err:
        client.close()
        kind, detail = classify(err, timeout)
        raise ConnectionFailed("Redis", params, kind, scrub(detail, [params.get("login_password")]))
    return client


def keyspace(client):
    """{"db<n>": key count} of the non-empty databases."""
    return dict((name, int(stats["keys"])) for name, stats in client.info("keyspace").items() if name.startswith("db"))


def copy_keys(source, target, batch=500):
    """Copy every key with its TTL from the server of ``source`` to that of ``target`` (resolved params).

    DUMP/RESTORE REPLACE, pipelined by ``batch`` keys; {"db<n>": keys copied}.
    """
    copied = {}
    client = connect(source)
    try:
        databases = sorted(keyspace(client))
    finally:
        client.close()
    for db in databases:
        src, dst = connect(dict(source, redis_db=int(db[2:]))), connect(dict(target, redis_db=int(db[2:])))
        try:
            copied[db] = _copy_db(src, dst, batch)
        finally:
            src.close()
            dst.close()
    return copied


def _copy_db(src, dst, batch):
    count = 0
    keys = []
    for key in src.scan_iter(count=batch):
        keys.append(key)
        if len(keys) == batch:
            count += _copy_batch(src, dst, keys)
            keys = []
    return count + (_copy_batch(src, dst, keys) if keys else 0)


def _copy_batch(src, dst, keys):
    read = src.pipeline(transaction=False)
    for key in keys:
        read.pttl(key)
        read.dump(key)
    replies = read.execute(raise_on_error=False)
    write = dst.pipeline(transaction=False)
    restored = 0
    for index, key in enumerate(keys):
        ttl, payload = replies[2 * index], replies[2 * index + 1]
        if payload is None or isinstance(payload, Exception):
            continue  # expired or deleted since SCAN saw it
        write.restore(key, max(ttl, 0) if isinstance(ttl, int) else 0, payload, replace=True)
        restored += 1
    for reply in write.execute(raise_on_error=False):
        if isinstance(reply, Exception):
            raise OperatorError("RESTORE into the target failed: %s" % reply)
    return restored


def stream_snapshot(params, write, timeout=3600.0):
    """Stream a consistent RDB snapshot of the server, as a replica receives it, to ``write``.

    Hand-written over a socket because redis-py cannot do it: SYNC answers with a
    raw RDB payload (``$<length>`` and no closing CRLF, or with ``capa eof`` a
    ``$EOF:<mark>`` ... ``<mark>`` stream from a diskless master) that no RESP
    parser reads. Returns the number of bytes.
    """
    try:
        if params.get("unix_socket"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(float(params["connect_timeout"]))
            sock.connect(params["unix_socket"])
        else:
            sock = socket.create_connection((params["host"], int(params["port"])), timeout=float(params["connect_timeout"]))
    except (socket.error, OSError) as exc:
        raise ConnectionFailed("Redis", params, *describe_error(exc, params["connect_timeout"]))
    link = ReplicaLink(sock, _connection.where(params), [params.get("login_password")])
    try:
        if params.get("login_password"):
            link.command(*(["AUTH", params["login_user"]] if params.get("login_user") else ["AUTH"]) + [params["login_password"]])
        return link.sync(write, timeout)
    finally:
        sock.close()


class ReplicaLink(object):
    """The replica's side of SYNC on a connected socket: enough RESP for one-line replies, then the payload."""

    def __init__(self, sock, where, secrets=()):
        self.sock = sock
        self.where = where
        self.secrets = secrets
        self.buf = bytearray()

    @staticmethod
    def encode(args):
        out = [b"*%d\r\n" % len(args)]
        for arg in args:
            arg = arg if isinstance(arg, bytes) else str(arg).encode("utf-8")
            out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
        return b"".join(out)

    def _fill(self):
        try:
            data = self.sock.recv(CHUNK_SIZE)
        except socket.timeout:
            raise OperatorError("Redis at %s did not answer in time" % self.where, "timeout")
        except (socket.error, OSError) as exc:
            raise OperatorError("connection to Redis at %s failed: %s" % (self.where, exc), "reset")
        if not data:
            raise OperatorError("Redis at %s closed the connection" % self.where, "closed")
        self.buf.extend(data)

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, _sep, rest = bytes(self.buf).partition(b"\r\n")
        self.buf = bytearray(rest)
        return line

    def command(self, *args):
        """Send a command whose reply is one line; OperatorError on an error reply."""
        self.sock.sendall(self.encode(args))
        line = self._line()
        if line.startswith(b"-"):
            text = scrub(line[1:], self.secrets)
            kind = "auth" if args[0] == "AUTH" else "error"
            raise OperatorError("Redis at %s refused %s: %s" % (self.where, "the password" if kind == "auth" else args[0], text), kind)
        return line

    def sync(self, write, timeout):
        """SYNC, the payload to ``write``; the number of bytes."""
        for args in (("REPLCONF", "capa", "eof"), ("REPLCONF", "rdb-only", "1")):
            try:
                self.command(*args)
            except OperatorError as exc:
                if exc.kind != "error":
                    raise  # older servers refuse these options; a broken link is another matter
        self.sock.sendall(self.encode(["SYNC"]))
        self.sock.settimeout(timeout)
        while True:
            # the master sends newlines as keep-alives while it prepares the snapshot
            while self.buf[:1] == b"\n":
                del self.buf[:1]
            if self.buf[:1] in (b"-", b"$"):
                break
            self._fill()
        header = self._line()
        if header.startswith(b"-"):
            raise OperatorError("Redis at %s refused SYNC: %s" % (self.where, scrub(header[1:], self.secrets)))
        if header.startswith(b"$EOF:"):
            return self._until_mark(header[5:], write)
        return self._counted(int(header[1:]), write)

    def _until_mark(self, mark, write):
        total = 0
        tail = bytearray()
        while True:
            if not self.buf:
                self._fill()
            tail.extend(self.buf)
            self.buf = bytearray()
            if tail.endswith(mark):
                write(bytes(tail[:-len(mark)]))
                return total + len(tail) - len(mark)
            if len(tail) > len(mark):
                cut = len(tail) - len(mark)
                write(bytes(tail[:cut]))
                total += cut
                del tail[:cut]

    def _counted(self, remaining, write):
        total = remaining
        while remaining > 0:
            if not self.buf:
                self._fill()
            take = min(remaining, len(self.buf))
            write(bytes(self.buf[:take]))
            del self.buf[:take]
            remaining -= take
        return total

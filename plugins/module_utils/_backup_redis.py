# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Redis for acgs_backup: a small RESP client (no third-party library needed on
the managed host), a consistent snapshot streamed with SYNC, and restore by
loading the snapshot into a private redis-server and copying it key by key
(DUMP/RESTORE) into the target, which keeps running.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import socket
import subprocess
import tempfile
import time

from ansible_collections.acgs.platform.plugins.module_utils._backup import BackupError, CHUNK_SIZE, which


class RedisError(BackupError):
    pass


class RespClient(object):
    """Enough of RESP2 for AUTH, INFO, SCAN, DUMP, RESTORE and SYNC."""

    def __init__(self, host="127.0.0.1", port=6379, password=None, username=None, unix_socket=None, timeout=10.0):
        self.where = unix_socket or "%s:%s" % (host, port)
        try:
            if unix_socket:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.settimeout(timeout)
                self.sock.connect(unix_socket)
            else:
                self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        except (socket.error, OSError) as exc:
            raise RedisError("cannot connect to Redis at %s: %s" % (self.where, exc))
        self.buf = bytearray()
        if password:
            args = ["AUTH", username, password] if username else ["AUTH", password]
            try:
                self.call(*args)
            except RedisError as exc:
                self.close()
                raise RedisError("Redis at %s refused the password: %s" % (self.where, str(exc).replace(password, "********")))

    def close(self):
        try:
            self.sock.close()
        except (socket.error, OSError):
            pass

    @staticmethod
    def encode(args):
        out = [b"*%d\r\n" % len(args)]
        for arg in args:
            if not isinstance(arg, bytes):
                arg = str(arg).encode("utf-8")
            out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
        return b"".join(out)

    def _fill(self):
        try:
            data = self.sock.recv(CHUNK_SIZE)
        except socket.timeout:
            raise RedisError("Redis at %s did not answer in time" % self.where)
        except (socket.error, OSError) as exc:
            raise RedisError("connection to Redis at %s failed: %s" % (self.where, exc))
        if not data:
            raise RedisError("Redis at %s closed the connection" % self.where)
        self.buf.extend(data)

    def _line(self):
        while True:
            pos = self.buf.find(b"\r\n")
            if pos >= 0:
                line = bytes(self.buf[:pos])
                del self.buf[:pos + 2]
                return line
            self._fill()

    def _exact(self, count):
        while len(self.buf) < count:
            self._fill()
        data = bytes(self.buf[:count])
        del self.buf[:count]
        return data

    def read_reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode("utf-8", "replace")
        if kind == b"-":
            raise RedisError(rest.decode("utf-8", "replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            length = int(rest)
            if length < 0:
                return None
            data = self._exact(length + 2)
            return data[:-2]
        if kind == b"*":
            length = int(rest)
            if length < 0:
                return None
            return [self.read_reply() for dummy in range(length)]
        raise RedisError("unexpected reply from Redis at %s" % self.where)

    def call(self, *args):
        self.sock.sendall(self.encode(args))
        return self.read_reply()

    def pipeline(self, commands):
        """Sends all commands, then reads the replies; errors are returned, not raised."""
        self.sock.sendall(b"".join(self.encode(c) for c in commands))
        replies = []
        for dummy in commands:
            try:
                replies.append(self.read_reply())
            except RedisError as exc:
                if "connection" in str(exc) or "closed" in str(exc) or "in time" in str(exc):
                    raise
                replies.append(exc)
        return replies

    def info(self, section=None):
        raw = self.call("INFO", section) if section else self.call("INFO")
        result = {}
        for line in raw.decode("utf-8", "replace").splitlines():
            if ":" in line and not line.startswith("#"):
                key, value = line.split(":", 1)
                result[key] = value
        return result

    def keyspace(self):
        """{db index: key count}."""
        counts = {}
        for key, value in self.info("keyspace").items():
            if key.startswith("db"):
                fields = dict(item.split("=", 1) for item in value.split(","))
                counts[int(key[2:])] = int(fields.get("keys", 0))
        return counts

    def sync_stream(self, write, timeout=3600.0):
        """A consistent RDB snapshot (as a replica gets it), streamed to ``write``.

        Announces ``capa eof`` so a diskless master streams it without writing a
        file on the server; both the ``$<length>`` and the ``$EOF:<mark>`` forms
        are handled. Returns the number of bytes.
        """
        for args in (("REPLCONF", "capa", "eof"), ("REPLCONF", "rdb-only", "1")):
            try:
                self.call(*args)
            except RedisError as exc:
                if "connection" in str(exc) or "closed" in str(exc):
                    raise
        self.sock.sendall(self.encode(["SYNC"]))
        self.sock.settimeout(timeout)
        while True:
            # the master sends newlines as keep-alives while it prepares the snapshot
            while self.buf[:1] == b"\n":
                del self.buf[:1]
            if not self.buf:
                self._fill()
                continue
            if self.buf[:1] == b"-":
                self.read_reply()
            if self.buf[:1] == b"$":
                break
            self._fill()
        header = self._line()
        total = 0
        if header.startswith(b"$EOF:"):
            mark = header[5:]
            tail = bytearray()
            while True:
                if self.buf:
                    tail.extend(self.buf)
                    self.buf = bytearray()
                else:
                    self._fill()
                    continue
                if tail.endswith(mark):
                    data = bytes(tail[:-len(mark)])
                    write(data)
                    total += len(data)
                    return total
                if len(tail) > len(mark):
                    cut = len(tail) - len(mark)
                    write(bytes(tail[:cut]))
                    total += cut
                    del tail[:cut]
        remaining = int(header[1:])
        while remaining > 0:
            if not self.buf:
                self._fill()
            take = min(remaining, len(self.buf))
            write(bytes(self.buf[:take]))
            del self.buf[:take]
            remaining -= take
            total += take
        return total


def connect(params):
    return RespClient(host=params.get("host") or "127.0.0.1", port=params.get("port") or 6379,
                      password=params.get("password"), username=params.get("username"),
                      unix_socket=params.get("unix_socket"), timeout=float(params.get("connect_timeout") or 10))


def describe(client):
    info = client.info("server")
    return {"version": info.get("redis_version"), "keys": dict(("db%d" % k, v) for k, v in sorted(client.keyspace().items()))}


def total_keys(client):
    return sum(client.keyspace().values())


class ScratchRedis(object):
    """A private redis-server on a unix socket in ``workdir`` that loads ``rdb_path``."""

    def __init__(self, rdb_path, workdir):
        self.workdir = workdir
        self.rdb_name = os.path.basename(rdb_path)
        self.socket = os.path.join(workdir, "redis.sock")
        self.proc = None

    def __enter__(self):
        server = which("redis-server")
        if not server:
            raise RedisError("redis-server is not installed: it is needed to load a Redis snapshot")
        log = open(os.path.join(self.workdir, "redis.log"), "wb")
        self.proc = subprocess.Popen(
            [server, "--port", "0", "--unixsocket", self.socket, "--unixsocketperm", "700", "--dir", self.workdir,
             "--dbfilename", self.rdb_name, "--save", "", "--appendonly", "no", "--daemonize", "no",
             "--protected-mode", "no"],
            stdout=log, stderr=subprocess.STDOUT, close_fds=True)
        log.close()
        deadline = time.time() + 600
        while True:
            if self.proc.poll() is not None:
                with open(os.path.join(self.workdir, "redis.log"), "rb") as handle:
                    tail = handle.read()[-2000:].decode("utf-8", "replace")
                raise RedisError("the Redis snapshot could not be loaded: %s" % tail.strip())
            if os.path.exists(self.socket):
                try:
                    client = RespClient(unix_socket=self.socket, timeout=60)
                    if client.info("persistence").get("loading") == "0":
                        self.client = client
                        return self
                    client.close()
                except RedisError as exc:
                    if "LOADING" not in str(exc) and "connect" not in str(exc):
                        raise
            if time.time() > deadline:
                raise RedisError("the Redis snapshot did not load within 600 s")
            time.sleep(0.05)

    def __exit__(self, *exc):
        try:
            self.client.call("SHUTDOWN", "NOSAVE")
        except (RedisError, AttributeError):
            pass
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return False


def copy_keys(source, target, batch=500):
    """Copies every key with its TTL from ``source`` to ``target`` (DUMP/RESTORE REPLACE)."""
    copied = {}
    for db in sorted(source.keyspace()):
        source.call("SELECT", db)
        target.call("SELECT", db)
        cursor = b"0"
        count = 0
        while True:
            cursor, keys = source.call("SCAN", cursor, "COUNT", batch)
            if keys:
                replies = source.pipeline([c for key in keys for c in (("PTTL", key), ("DUMP", key))])
                restores = []
                for index, key in enumerate(keys):
                    ttl, payload = replies[2 * index], replies[2 * index + 1]
                    if payload is None or isinstance(payload, Exception):
                        continue
                    restores.append(("RESTORE", key, max(int(ttl), 0) if isinstance(ttl, int) else 0, payload, "REPLACE"))
                for reply in target.pipeline(restores):
                    if isinstance(reply, Exception):
                        raise RedisError("RESTORE into the target failed: %s" % reply)
                count += len(restores)
            if cursor in (b"0", 0, "0"):
                break
        copied["db%d" % db] = count
    target.call("SELECT", 0)
    return copied


def check_rdb(path):
    tool = which("redis-check-rdb")
    if not tool:
        raise RedisError("redis-check-rdb is not installed")
    proc = subprocess.Popen([tool, path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, close_fds=True)
    out = proc.communicate()[0].decode("utf-8", "replace")
    if proc.returncode != 0 or "RDB looks OK" not in out:
        lines = [line for line in out.splitlines() if "ERROR" in line or "error" in line] or out.splitlines()[-3:]
        return False, " ".join(line.strip() for line in lines)[:500]
    return True, None


def make_workdir(parent):
    return tempfile.mkdtemp(prefix=".redis-", dir=parent)


def drop_workdir(path):
    shutil.rmtree(path, ignore_errors=True)

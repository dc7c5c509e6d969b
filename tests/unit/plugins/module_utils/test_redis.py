# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Redis: the SYNC stream reader against scripted replies, and redis-py against real
redis-server processes these tests start (skipped where redis-server is not installed)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shutil
import socket
import threading

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _redis
from ansible_collections.acgs.platform.plugins.module_utils._connection import ConnectionFailed
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.tests.unit.plugins.test_support.fault_servers import RedisServer, free_port

SECRET = "Redis-s3cret-pw"
needs_redis = pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server is not installed")


def _link_with_server(script):
    ours, theirs = socket.socketpair()

    def serve():
        received = b""
        for expect, reply in script:
            while expect not in received:
                data = theirs.recv(65536)
                if not data:
                    return
                received += data
            for piece in reply:
                theirs.sendall(piece)
        theirs.close()

    thread = threading.Thread(target=serve)
    thread.daemon = True
    thread.start()
    ours.settimeout(5)
    return _redis.ReplicaLink(ours, "test", [SECRET])


RDB = b"REDIS0010" + bytes(range(256)) * 50 + b"\xff" + b"12345678"


@pytest.mark.parametrize("form", ["eof", "length"])
def test_sync_strips_framing(form):
    mark = b"a" * 40
    if form == "eof":
        body = [b"\n\n$EOF:" + mark + b"\r\n", RDB[:1000], RDB[1000:] + mark[:10], mark[10:]]
    else:
        body = [b"\n$%d\r\n" % len(RDB), RDB[:7], RDB[7:]]
    link = _link_with_server([(b"capa", [b"+OK\r\n"]), (b"rdb-only", [b"-ERR unknown option\r\n"]), (b"SYNC", body)])
    out = []
    assert link.sync(out.append, 5) == len(RDB)
    assert b"".join(out) == RDB


def test_error_replies_are_raised_without_the_password():
    link = _link_with_server([(b"AUTH", [b"-WRONGPASS invalid username-password pair (" + SECRET.encode() + b")\r\n"])])
    with pytest.raises(OperatorError) as err:
        link.command("AUTH", SECRET)
    assert err.value.kind == "auth" and "refused the password" in str(err.value) and SECRET not in str(err.value)
    link = _link_with_server([(b"capa", [b"+OK\r\n"]), (b"rdb-only", [b"+OK\r\n"]), (b"SYNC", [b"-NOPERM no SYNC for you\r\n"])])
    with pytest.raises(OperatorError, match="refused SYNC: NOPERM"):
        link.sync(lambda data: None, 5)


def test_closed_port():
    pytest.importorskip("redis")
    params = _redis.resolve({"port": free_port(), "login_password": SECRET, "connect_timeout": 2})
    with pytest.raises(ConnectionFailed) as err:
        _redis.connect(params)
    assert err.value.kind == "refused" and str(err.value) == "cannot connect to Redis at 127.0.0.1:%d: connection refused" % params["port"]
    with pytest.raises(ConnectionFailed, match="cannot connect to Redis"):
        _redis.stream_snapshot(params, lambda data: None)


@needs_redis
def test_password_keyspace_copy_and_snapshot(tmp_path):
    pytest.importorskip("redis")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with RedisServer(SECRET, tmp_path / "a") as source, RedisServer(SECRET, tmp_path / "b") as target:
        src = _redis.resolve({"port": source.port, "login_password": SECRET})
        dst = _redis.resolve({"port": target.port, "login_password": SECRET})
        with pytest.raises(ConnectionFailed) as err:
            _redis.connect(dict(src, login_password="wrong-" + SECRET))
        assert err.value.kind == "auth" and err.value.detail.startswith("authentication failed")
        assert "refused the password" in str(err.value) and SECRET not in str(err.value)
        for db, count in ((0, 1200), (3, 2)):
            client = _redis.connect(dict(src, redis_db=db))
            client.mset(dict(("k%d" % i, "v%d" % i) for i in range(count)))
            client.expire("k1", 1000)
            client.close()
        client = _redis.connect(src)
        assert _redis.keyspace(client) == {"db0": 1200, "db3": 2}
        client.close()
        assert _redis.copy_keys(src, dst, batch=500) == {"db0": 1200, "db3": 2}
        client = _redis.connect(dst)
        assert _redis.keyspace(client) == {"db0": 1200, "db3": 2}
        assert client.get("k7") == b"v7" and 0 < client.ttl("k1") <= 1000 and client.ttl("k2") == -1
        client.close()
        chunks = []
        size = _redis.stream_snapshot(src, chunks.append)
    snapshot = b"".join(chunks)
    assert size == len(snapshot) and snapshot.startswith(b"REDIS")

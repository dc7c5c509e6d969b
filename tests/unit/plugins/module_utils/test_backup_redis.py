# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Redis snapshot checked with redis-check-rdb and loaded into a private redis-server
(real servers these tests start; skipped where Redis is not installed)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import os
import shutil
import time

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _backup_redis, _redis
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.tests.unit.plugins.test_support.fault_servers import RedisServer

pytestmark = pytest.mark.skipif(not (shutil.which("redis-server") and shutil.which("redis-check-rdb")),
                                reason="redis-server and redis-check-rdb are not installed")
SECRET = "Redis-s3cret-pw"


@contextlib.contextmanager
def _server(directory, keys, **config):
    """A real redis-server working in ``directory`` that holds ``keys``, with ``config`` set; its connection options."""
    pytest.importorskip("redis")
    directory.mkdir()
    with RedisServer(SECRET, directory) as server:
        params = _redis.resolve({"port": server.port, "login_password": SECRET})
        client = _redis.connect(params)
        client.mset(keys)
        for name, value in config.items():
            client.config_set(name, value)
        client.close()
        yield params


def _loaded_keys(rdb, workdir):
    assert _backup_redis.check_rdb(rdb) == (True, None)
    with _backup_redis.ScratchRedis(rdb, workdir) as scratch:
        client = _redis.connect(scratch.params)
        try:
            return _redis.keyspace(client), client.get("b")
        finally:
            client.close()


def test_snapshot_checked_and_loaded(tmp_path):
    with _server(tmp_path / "server", {"a": "1", "b": "2"}) as params:
        with open(str(tmp_path / "dump.rdb"), "wb") as out:
            _redis.stream_snapshot(params, out.write)
    assert _loaded_keys(str(tmp_path / "dump.rdb"), str(tmp_path)) == ({"db0": 2}, b"2")
    (tmp_path / "bad.rdb").write_bytes(b"REDIS0010 not really")
    ok, why = _backup_redis.check_rdb(str(tmp_path / "bad.rdb"))
    assert not ok and why


def test_without_redis_server_redis_check_rdb_loads_the_snapshot(tmp_path, monkeypatch):
    """A host with redis-tools only (the backup installs it on a database host without Redis): the private
    server is redis-check-rdb run as redis-server, and it loads the snapshot; with neither, the error names both."""
    with _server(tmp_path / "server", {"a": "1", "b": "2"}) as params:
        with open(str(tmp_path / "dump.rdb"), "wb") as out:
            _redis.stream_snapshot(params, out.write)
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "redis-check-rdb").symlink_to(os.path.realpath(shutil.which("redis-check-rdb")))
    monkeypatch.setenv("PATH", str(tools))
    assert _backup_redis.server_program() == (str(tools / "redis-check-rdb"), "redis-server")
    assert _loaded_keys(str(tmp_path / "dump.rdb"), str(tmp_path)) == ({"db0": 2}, b"2")
    (tools / "redis-check-rdb").unlink()
    with pytest.raises(OperatorError, match="redis-server is not installed .nor redis-tools' redis-check-rdb."):
        _backup_redis.server_program()


def _snapshot(params, path):
    with open(str(path), "wb") as out:
        started = time.time()
        size = _backup_redis.immediate_snapshot(params, out.write)
    return size, time.time() - started


def test_immediate_snapshot_skips_the_diskless_delay(tmp_path):
    keys = dict([("k%d" % i, "v" * 100) for i in range(1000)], b="2")
    with _server(tmp_path / "server", keys) as params:
        client = _redis.connect(params)
        delay = client.config_get("repl-diskless-sync-delay")["repl-diskless-sync-delay"]
        client.close()
        size, seconds = _snapshot(params, tmp_path / "dump.rdb")
        # twice: a second snapshot starts its own save at once again
        size2, seconds2 = _snapshot(params, tmp_path / "dump2.rdb")
    assert delay == "5" and seconds < 2 and seconds2 < 2
    assert size == os.path.getsize(str(tmp_path / "dump.rdb")) > 10000 and size2 == size
    assert _loaded_keys(str(tmp_path / "dump.rdb"), str(tmp_path)) == ({"db0": 1001}, b"2")


def test_immediate_snapshot_falls_back_to_diskless_when_the_server_cannot_save(tmp_path):
    with _server(tmp_path / "gone", {"b": "2"}, **{"repl-diskless-sync-delay": "1"}) as params:
        shutil.rmtree(str(tmp_path / "gone"))  # its working directory: BGSAVE cannot create its file any more
        size, seconds = _snapshot(params, tmp_path / "dump.rdb")
    assert size == os.path.getsize(str(tmp_path / "dump.rdb")) > 0
    assert seconds >= 0.9  # the diskless SYNC waited its (shortened) delay
    assert _loaded_keys(str(tmp_path / "dump.rdb"), str(tmp_path)) == ({"db0": 1}, b"2")


def test_immediate_snapshot_wrong_password_is_named_without_it(tmp_path):
    with _server(tmp_path / "server", {"b": "2"}) as params:
        with pytest.raises(OperatorError) as err:
            _snapshot(dict(params, login_password="Wrong-pw-1"), tmp_path / "x")
    assert err.value.kind == "auth" and "Wrong-pw-1" not in str(err.value)

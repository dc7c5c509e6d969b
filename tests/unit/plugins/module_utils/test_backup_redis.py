# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Redis snapshot checked with redis-check-rdb and loaded into a private redis-server
(real servers these tests start; skipped where Redis is not installed)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shutil

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _backup_redis, _redis
from ansible_collections.acgs.platform.tests.unit.plugins.test_support.fault_servers import RedisServer

pytestmark = pytest.mark.skipif(not (shutil.which("redis-server") and shutil.which("redis-check-rdb")),
                                reason="redis-server and redis-check-rdb are not installed")
SECRET = "Redis-s3cret-pw"


def test_snapshot_checked_and_loaded(tmp_path):
    pytest.importorskip("redis")
    (tmp_path / "server").mkdir()
    with RedisServer(SECRET, tmp_path / "server") as server:
        params = _redis.resolve({"port": server.port, "login_password": SECRET})
        client = _redis.connect(params)
        client.mset({"a": "1", "b": "2"})
        client.close()
        with open(str(tmp_path / "dump.rdb"), "wb") as out:
            _redis.stream_snapshot(params, out.write)
    assert _backup_redis.check_rdb(str(tmp_path / "dump.rdb")) == (True, None)
    with _backup_redis.ScratchRedis(str(tmp_path / "dump.rdb"), str(tmp_path)) as scratch:
        client = _redis.connect(scratch.params)
        assert _redis.keyspace(client) == {"db0": 2} and client.get("b") == b"2"
        client.close()
    (tmp_path / "bad.rdb").write_bytes(b"REDIS0010 not really")
    ok, why = _backup_redis.check_rdb(str(tmp_path / "bad.rdb"))
    assert not ok and why

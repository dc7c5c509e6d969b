# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The RESP client's snapshot reader against scripted replies (both SYNC forms)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import threading

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _backup_redis as rds


def _client_with_server(script):
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
    client = object.__new__(rds.RespClient)
    client.sock = ours
    client.where = "test"
    client.buf = bytearray()
    return client


RDB = b"REDIS0010" + bytes(range(256)) * 50 + b"\xff" + b"12345678"


@pytest.mark.parametrize("form", ["eof", "length"])
def test_sync_stream_strips_framing(form):
    mark = b"a" * 40
    if form == "eof":
        body = [b"\n\n$EOF:" + mark + b"\r\n", RDB[:1000], RDB[1000:] + mark[:10], mark[10:]]
    else:
        body = [b"\n$%d\r\n" % len(RDB), RDB[:7], RDB[7:]]
    client = _client_with_server([(b"capa", [b"+OK\r\n"]), (b"rdb-only", [b"+OK\r\n"]), (b"SYNC", body)])
    out = []
    assert client.sync_stream(out.append) == len(RDB)
    assert b"".join(out) == RDB


def test_error_reply_is_raised():
    client = _client_with_server([(b"PING", [b"-NOAUTH Authentication required.\r\n"])])
    with pytest.raises(rds.RedisError) as err:
        client.call("PING")
    assert "NOAUTH" in str(err.value)


def test_keyspace_parsing():
    info = b"# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=0\r\ndb2:keys=5,expires=0,avg_ttl=0\r\n"
    client = _client_with_server([(b"keyspace", [b"$%d\r\n%s\r\n" % (len(info), info)])])
    assert client.keyspace() == {0: 3, 2: 5}


def test_connection_refused_is_clear():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(rds.RedisError) as err:
        rds.RespClient(port=port, timeout=2)
    assert "cannot connect to Redis at 127.0.0.1:%d" % port in str(err.value)

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: Redis snapshots of acgs_backup on the managed host.

A snapshot is checked with ``redis-check-rdb``, and restored by loading it into a
private ``redis-server`` on a unix socket, from which _redis.copy_keys copies every
key into the target, which keeps running. Connections come from _redis.
Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import time

from ansible_collections.acgs.platform.plugins.module_utils import _redis
from ansible_collections.acgs.platform.plugins.module_utils._backup_store import BackupError
from ansible_collections.acgs.platform.plugins.module_utils._backup_stream import require_tool, which
from ansible_collections.acgs.platform.plugins.module_utils._connection import where
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError

LOAD_TIMEOUT = 600
SNAPSHOT_TIMEOUT = 3600.0


class _DiskSyncLink(_redis.ReplicaLink):
    """A replica link that does not advertise ``capa eof`` (see immediate_snapshot)."""

    def command(self, *args):
        if args[:2] == ("REPLCONF", "capa"):
            return b"+OK"
        return super(_DiskSyncLink, self).command(*args)


def immediate_snapshot(params, write, timeout=SNAPSHOT_TIMEOUT):
    """Stream a consistent RDB snapshot of the server to ``write`` without the diskless sync delay.

    Where the 5 s came from: a master with ``repl-diskless-sync yes`` (the Redis 7 default)
    answers a replica that advertises ``capa eof`` by waiting ``repl-diskless-sync-delay``
    (default 5 s) for more replicas before it forks (syncCommand, replicationCron). To a
    replica without that capability it starts a BGSAVE to disk at once (or joins one in
    progress) and streams the file as ``$<length>`` once written, so this link does not
    advertise it; ``REPLCONF rdb-only`` still spares the master the replication backlog.
    The price is the master's own RDB file rewritten, as by BGSAVE, which persistence
    does anyway. Rejected: ``CONFIG SET repl-diskless-sync-delay 0`` changes the server
    for its real replicas and needs CONFIG, often renamed or denied by ACLs; ``rdb-only``
    and ``rdb-filter-only`` do not skip the delay. When the master cannot write its RDB
    file (BGSAVE fails) and nothing was streamed yet, this falls back to the diskless SYNC
    of _redis.stream_snapshot, delay included. Returns the number of bytes.
    """
    written = [0]

    def counted(data):
        written[0] += len(data)
        write(data)

    client = _redis.connect(params)
    try:
        try:
            conn = client.connection_pool.get_connection()
        except TypeError:  # redis-py < 5 needs a command name
            conn = client.connection_pool.get_connection("SYNC")
        try:
            # the authenticated socket redis-py opened (PING answered); the link owns it from here on
            return _DiskSyncLink(conn._sock, where(params), [params.get("login_password")]).sync(counted, timeout)
        finally:
            conn.disconnect()
    except OperatorError as exc:
        if written[0] or exc.kind not in ("error", "closed", "reset"):
            raise
    finally:
        client.close()
    return _redis.stream_snapshot(params, write, timeout)


def server_program():
    """(executable, argv[0]) of a Redis server. redis-server where it is installed; else redis-tools'
    redis-check-rdb, which the backup installs on a host without Redis (a multi-host layout's database
    host): it is the same program (Debian's redis-server is a symlink to it) and serves when its argv[0]
    does not name redis-check-rdb."""
    server = which("redis-server")
    if server:
        return server, server
    checker = which("redis-check-rdb")
    if checker:
        return checker, "redis-server"
    return require_tool("redis-server", " (nor redis-tools' redis-check-rdb): it is needed to load a Redis snapshot"), "redis-server"


class ScratchRedis(object):
    """A private redis-server on a unix socket in ``workdir`` that loads ``rdb_path``.

    ``params`` are the resolved connection options of that server once it has loaded.
    """

    def __init__(self, rdb_path, workdir):
        self.workdir = workdir
        self.rdb_name = os.path.basename(rdb_path)
        self.params = _redis.resolve({"unix_socket": os.path.join(workdir, "redis.sock")}, connect_timeout=60)
        self.proc = None

    def __enter__(self):
        server, name = server_program()
        log_path = os.path.join(self.workdir, "redis.log")
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [name, "--port", "0", "--unixsocket", self.params["unix_socket"], "--unixsocketperm", "700",
                 "--dir", self.workdir, "--dbfilename", self.rdb_name, "--save", "", "--appendonly", "no",
                 "--daemonize", "no", "--protected-mode", "no"],
                executable=server, stdout=log, stderr=subprocess.STDOUT, close_fds=True)
        deadline = time.time() + LOAD_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                with open(log_path, "rb") as handle:
                    tail = handle.read()[-2000:].decode("utf-8", "replace")
                raise BackupError("the Redis snapshot could not be loaded: %s" % tail.strip())
            if os.path.exists(self.params["unix_socket"]):
                try:
                    # PING fails with LOADING until the snapshot is in memory
                    _redis.connect(self.params).close()
                    return self
                except OperatorError:
                    pass
            if time.time() > deadline:
                raise BackupError("the Redis snapshot did not load within %d s" % LOAD_TIMEOUT)
            time.sleep(0.05)

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return False


def check_rdb(path):
    """(ok, why not) of redis-check-rdb on a snapshot file."""
    proc = subprocess.Popen([require_tool("redis-check-rdb"), path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            close_fds=True)
    out = proc.communicate()[0].decode("utf-8", "replace")
    if proc.returncode != 0 or "RDB looks OK" not in out:
        lines = [line for line in out.splitlines() if "ERROR" in line or "error" in line] or out.splitlines()[-3:]
        return False, " ".join(line.strip() for line in lines)[:500]
    return True, None

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: acgs_backup state=present - take a backup set.

PostgreSQL dumps, a Redis snapshot and tar archives of paths stream into a
partial set; its manifest is written last, then the set is renamed into place,
verified and retention applied. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible_collections.acgs.platform.plugins.module_utils import _backup_postgresql as pg
from ansible_collections.acgs.platform.plugins.module_utils import _backup_store as store
from ansible_collections.acgs.platform.plugins.module_utils import _backup_wal as wal
from ansible_collections.acgs.platform.plugins.module_utils import _postgres, _redis
from ansible_collections.acgs.platform.plugins.module_utils._backup_crypto import (
    ENC_ALGORITHM,
    ENC_SUFFIX,
    key_fingerprint,
    key_from_params,
)
from ansible_collections.acgs.platform.plugins.module_utils._backup_redis import immediate_snapshot
from ansible_collections.acgs.platform.plugins.module_utils._backup_retention import apply_retention, wanted
from ansible_collections.acgs.platform.plugins.module_utils._backup_store import BackupError
from ansible_collections.acgs.platform.plugins.module_utils._backup_stream import (
    COMPRESSORS,
    Pipeline,
    checksum_file,
    cpu_count,
    require_tool,
    resolve_compression,
    run_parallel,
    run_tool,
    tool_version,
)
from ansible_collections.acgs.platform.plugins.module_utils._backup_verify import verify_set
from ansible_collections.acgs.platform.plugins.module_utils._connection import where
from ansible_collections.acgs.platform.plugins.module_utils.catalog import CONSTITUTIONAL_HASH, CatalogError, validate_hash


def _file_name(base, compression, key):
    return base + COMPRESSORS[compression]["suffix"] + (ENC_SUFFIX if key else "")


def _entry(result, component, kind, compression, key, extra=None):
    entry = dict(result, component=component, kind=kind, compression=compression, encrypted=bool(key))
    entry.update(extra or {})
    return entry


def _codec(params):
    """{compression, level, threads} of the set's compressor, levels and threads checked and filled in."""
    compression = resolve_compression(params.get("compression") or "auto")
    level, threads = params.get("compression_level"), params.get("compression_threads")
    if compression == "none":
        return {"compression": compression, "level": None, "threads": None}
    low, high = (1, 19) if compression == "zstd" else (1, 9)
    if level is not None and not low <= level <= high:
        raise BackupError("compression_level must be between %d and %d for %s, not %d" % (low, high, compression, level))
    if threads is not None and threads < 0:
        raise BackupError("compression_threads must be 0 (one per core) or more, not %d" % threads)
    return {"compression": compression, "level": COMPRESSORS[compression]["level"] if level is None else level,
            "threads": (threads or cpu_count()) if compression == "zstd" else 1}


def _pipeline(dest, codec, key, **kwargs):
    return Pipeline(dest, codec["compression"], key, level=codec["level"], threads=codec["threads"], **kwargs)


def create_set(params, check_mode=False, warn=None):
    warn = warn or (lambda msg: None)
    started = time.time()
    result = store.empty_result(params)
    backup_dir = params["backup_dir"]
    pg_params = _postgres.resolve(params["postgresql"]) if params.get("postgresql") else None
    redis_params = _redis.resolve(params["redis"]) if params.get("redis") else None
    paths = params.get("paths") or []
    if not (pg_params or redis_params or paths):
        raise BackupError("state=present needs at least one component: postgresql, redis or paths")
    try:
        chash = validate_hash(params.get("constitutional_hash") or CONSTITUTIONAL_HASH)
    except CatalogError as exc:
        raise BackupError("constitutional_hash: %s" % exc)
    codec = _codec(params)
    compression = codec["compression"]
    key = key_from_params(params)
    if pg_params and pg_params.get("format") == "directory" and key:
        raise BackupError("postgresql.format=directory cannot be encrypted: use format=custom with encryption_key_file")
    if check_mode:
        result["changed"] = True
        return result
    store.ensure_dir(backup_dir)
    secrets = [p.get("login_password") for p in (pg_params or {}, redis_params or {})]
    with store.StoreLock(backup_dir):
        for leftover in store.find_leftovers(backup_dir):
            store.remove_tree(leftover)
            result["leftovers_removed"].append(os.path.basename(leftover))
        backup_id = store.new_backup_id(backup_dir, started)
        partial = os.path.join(backup_dir, "." + backup_id + store.PARTIAL_SUFFIX)
        final = os.path.join(backup_dir, backup_id)
        os.mkdir(partial, 0o700)
        os.chmod(partial, 0o700)
        files = {}
        components = {}
        tools = {}
        try:
            if pg_params:
                components["postgresql"] = _backup_postgresql(pg_params, partial, codec, key, files, tools, secrets)
            if redis_params:
                components["redis"] = _backup_redis(redis_params, partial, codec, key, files, tools, secrets)
            if paths:
                components["paths"] = _backup_paths(paths, partial, codec, key, files, tools, warn)
            finished = time.time()
            manifest = {
                "format_version": store.FORMAT_VERSION,
                "backup_id": backup_id,
                "created": store.utc_iso(started),
                "created_epoch": started,
                "completed": store.utc_iso(finished),
                "duration_seconds": round(finished - started, 3),
                "constitutional_hash": chash,
                "source_host": store.host_name(),
                "compression": compression,
                "compression_level": codec["level"],
                "compression_threads": codec["threads"],
                "encryption": {"algorithm": ENC_ALGORITHM, "key_fingerprint": key_fingerprint(key)} if key else None,
                "tools": tools,
                "components": components,
                "files": files,
                "total_size": sum(f["size"] for f in files.values()),
                "complete": True,
            }
            store.write_json_atomic(os.path.join(partial, store.MANIFEST_NAME), manifest)
            os.rename(partial, final)
            store.fsync_dir(backup_dir)
        except BaseException:
            store.remove_tree(partial)
            raise
        result.update(changed=True, backup_id=backup_id, backup_path=final, manifest=manifest)
        if params.get("verify", True):
            result["verification"] = verify_set(params, backup_id=backup_id, key=key)
            if not result["verification"]["ok"]:
                raise BackupError("backup set %s was written but failed verification: %s" % (
                    backup_id, result["verification"]["summary"]))
        if wanted(params.get("retention")):
            apply_retention(result, backup_dir, params["retention"], protect=[backup_id])
    result["duration_seconds"] = round(time.time() - started, 3)
    return result


def _backup_postgresql(p, partial, codec, key, files, tools, secrets):
    conn = _postgres.connect(p)
    try:
        version = pg.server_version(conn)
        segment_size = pg.wal_segment_size(conn) if p.get("basebackup") else None
        databases = p.get("databases") or pg.list_databases(conn)
        owners = {}
        for db in databases:
            if not pg.database_exists(conn, db):
                raise BackupError("postgresql.databases: database %s does not exist on %s" % (db, where(p)))
            owners[db] = pg.database_owner(conn, db)
    finally:
        conn.close()
    tools["pg_dump"] = tool_version([require_tool("pg_dump"), "--version"])
    env = pg.env_for(p)
    os.mkdir(os.path.join(partial, "postgresql"), 0o700)
    info = {"host": p["host"], "port": p["port"], "server_version": version, "format": p["format"], "databases": {}}
    min_bytes = (p.get("table_file_min_mb") or 0) * 1024 * 1024
    # table files only where a restore streams the dump (_backup_restore), not for pg_dump's own zlib
    streamed = p["format"] == "custom" and (codec["compression"] == "zstd" or bool(key))
    for db in databases:
        holder = None
        snapshot = None
        checksums = None
        sizes = _table_sizes(p, db)
        own = pg.own_file_tables(sizes, min_bytes) if streamed else []
        if p.get("data_checksums") or own:
            # one snapshot for every pg_dump of the database and for the checksums
            holder = pg.SnapshotHolder(p, db)
            snapshot = holder.snapshot
            visible = dict(("%s.%s" % names, names) for names in pg.user_tables(holder.conn))
            own = [(name, visible[name]) for name in own if name in visible]
            if p.get("data_checksums"):
                checksums = pg.table_checksums(holder.conn)
        try:
            if p["format"] == "custom":
                db_files = _dump_custom(p, db, snapshot, own, (partial, codec, key, files), env, secrets)
            else:
                rel = "postgresql/%s.dir" % db
                out_dir = os.path.join(partial, rel)
                problem = run_tool(pg.dump_argv(p, db, "directory", jobs=p.get("jobs") or cpu_count(), level=p["compress_level"],
                                                snapshot=snapshot, out_dir=out_dir), env, secrets)
                if problem:
                    raise BackupError("pg_dump of %s failed: %s" % (db, problem))
                os.chmod(out_dir, 0o700)
                db_files = []
                for fname in sorted(os.listdir(out_dir)):
                    path = os.path.join(out_dir, fname)
                    os.chmod(path, 0o600)
                    name = rel + "/" + fname
                    files[name] = _entry(checksum_file(path), "postgresql", "pg_dir", "none", None,
                                         {"database": db, "dump_dir": rel})
                    db_files.append(name)
        finally:
            if holder:
                holder.close()
        info["databases"][db] = {"owner": owners[db], "files": db_files, "checksums": checksums,
                                 "table_bytes": sizes}
    if p.get("basebackup"):
        name = _file_name("postgresql/basebackup.tar", codec["compression"], key)
        pipe = _pipeline(os.path.join(partial, name), codec, key, env=env, secrets=secrets)
        base_started = time.time()
        res = pipe.run(pg.basebackup_argv(p), "pg_basebackup")
        files[name] = _entry(res, "basebackup", "tar", codec["compression"], key)
        info["basebackup"] = {"file": name, "wal_archive_dir": p.get("wal_archive_dir"),
                              "start_wal": wal.start_wal_from_basebackup_log(pipe.stderr[0] if pipe.stderr else "", segment_size),
                              "started_epoch": base_started, "finished_epoch": time.time()}
        tools["pg_basebackup"] = tool_version([require_tool("pg_basebackup"), "--version"])
    return info


def _table_sizes(p, db):
    conn = _postgres.connect(p, db)
    try:
        return pg.table_sizes(conn)
    finally:
        conn.close()


def _dump_custom(p, db, snapshot, own, into, env, secrets):
    """The custom-format dumps of ``db`` streamed into the set; their names, the whole database's first.

    With zstd the server's data leaves pg_dump uncompressed (-Z0) and zstd compresses it
    with one thread per core on the way to the hashing and writing (pg_dump's own zlib
    is one thread and most of its time). Otherwise pg_dump compresses (compress_level),
    as sets of format 1 did. Each table of ``own`` ([(name, (schema, table))], format 3)
    has its data in a file of its own, dumped beside the rest in the same snapshot, so
    that a restore loads it without decompressing past the other tables.
    """
    partial, codec, key, files = into
    if codec["compression"] != "zstd":
        codec, level = dict(codec, compression="none"), p["compress_level"]
    else:
        level = 0
    compression = codec["compression"]
    dumps = [(_file_name("postgresql/%s.dump" % db, compression, key), None,
              ["--exclude-table-data=" + pg.table_pattern(*names) for dummy, names in own])]
    for index, (table, names) in enumerate(own):
        dumps.append((_file_name("postgresql/%s.table-%d.dump" % (db, index + 1), compression, key), table,
                      ["--data-only", "--table=" + pg.table_pattern(*names)]))

    def _task(name, table, extra):
        what = "pg_dump of %s" % (db if table is None else "%s table %s" % (db, table))
        res = _pipeline(os.path.join(partial, name), codec, key, env=env, secrets=secrets).run(
            pg.dump_argv(p, db, "custom", level=level, snapshot=snapshot, extra=extra), what)
        files[name] = _entry(res, "postgresql", "pg_custom", compression, key,
                             dict({"database": db}, **({"table": table} if table else {})))
        return name

    return run_parallel([lambda d=dump: _task(*d) for dump in dumps], p.get("jobs") or cpu_count())


def _backup_redis(r, partial, codec, key, files, tools, secrets):
    client = _redis.connect(r)
    try:
        version = client.info("server").get("redis_version")
        keys = _redis.keyspace(client)
    finally:
        client.close()
    os.mkdir(os.path.join(partial, "redis"), 0o700)
    name = _file_name("redis/dump.rdb", codec["compression"], key)
    res = _pipeline(os.path.join(partial, name), codec, key, secrets=secrets).run(
        lambda write: immediate_snapshot(r, write), "Redis snapshot from %s" % where(r))
    files[name] = _entry(res, "redis", "redis_rdb", codec["compression"], key)
    tools["redis"] = version
    return {"host": r["host"], "port": r["port"], "version": version, "keys": keys, "file": name}


def _backup_paths(paths, partial, codec, key, files, tools, warn):
    tar = require_tool("tar")
    tools["tar"] = tool_version([tar, "--version"])
    os.mkdir(os.path.join(partial, "paths"), 0o700)
    entries = []
    for index, path in enumerate(paths):
        path = os.path.normpath(path)
        if not os.path.isabs(path):
            raise BackupError("paths: %s is not an absolute path" % path)
        if not os.path.lexists(path):
            warn("paths: %s does not exist, not backed up" % path)
            entries.append({"path": path, "file": None, "missing": True})
            continue
        slug = path.strip("/").replace("/", "_") or "root"
        name = _file_name("paths/%02d-%s.tar" % (index, slug), codec["compression"], key)
        pipe = _pipeline(os.path.join(partial, name), codec, key, ok_codes=(0, 1))
        res = pipe.run([tar, "--create", "--file=-", "--preserve-permissions", "--numeric-owner", "--sparse",
                        "--directory=/", path.lstrip("/") or "."], "tar of %s" % path)
        for message in pipe.warnings:
            warn(message)
        files[name] = _entry(res, "paths", "tar", codec["compression"], key, {"path": path})
        entries.append({"path": path, "file": name, "missing": False})
    return entries

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What acgs_backup does for each state: take a set, verify it, restore it,
remove it, apply retention. The module file only parses and reports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess
import tempfile
import time

from ansible_collections.acgs.platform.plugins.module_utils import _backup as store
from ansible_collections.acgs.platform.plugins.module_utils import _backup_postgresql as pg
from ansible_collections.acgs.platform.plugins.module_utils import _backup_redis as rds
from ansible_collections.acgs.platform.plugins.module_utils import _backup_wal as wal
from ansible_collections.acgs.platform.plugins.module_utils._backup import BackupError
from ansible_collections.acgs.platform.plugins.module_utils.catalog import CONSTITUTIONAL_HASH, CatalogError, validate_hash

COMPONENTS = ("postgresql", "redis", "paths", "basebackup")


def postgresql_spec():
    return dict(
        host=dict(type="str", default="127.0.0.1"),
        port=dict(type="int", default=5432),
        user=dict(type="str", default="postgres"),
        password=dict(type="str", no_log=True),
        maintenance_db=dict(type="str", default="postgres"),
        ssl_mode=dict(type="str", choices=["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]),
        connect_timeout=dict(type="int", default=10),
        databases=dict(type="list", elements="str", default=[]),
        format=dict(type="str", default="custom", choices=["custom", "directory"]),
        jobs=dict(type="int", default=2),
        compress_level=dict(type="int", default=6),
        data_checksums=dict(type="bool", default=False),
        basebackup=dict(type="bool", default=False),
        wal_archive_dir=dict(type="path"),
    )


def redis_spec():
    return dict(
        host=dict(type="str", default="127.0.0.1"),
        port=dict(type="int", default=6379),
        username=dict(type="str"),
        password=dict(type="str", no_log=True),
        unix_socket=dict(type="path"),
        connect_timeout=dict(type="int", default=10),
    )


def common_spec():
    return dict(
        backup_dir=dict(type="path", required=True),
        encryption_key_file=dict(type="path", no_log=False),
    )


def argument_spec():
    spec = common_spec()
    spec.update(
        state=dict(type="str", default="present", choices=["present", "verified", "restored", "absent"]),
        backup_id=dict(type="str"),
        compression=dict(type="str", default="auto", choices=["auto", "gzip", "zstd", "none"]),
        postgresql=dict(type="dict", options=postgresql_spec()),
        redis=dict(type="dict", options=redis_spec()),
        paths=dict(type="list", elements="path", default=[]),
        verify=dict(type="bool", default=True),
        retention=dict(type="dict", options=dict(
            keep_last=dict(type="int"),
            max_age_days=dict(type="float"),
        )),
        force=dict(type="bool", default=False),
        restore=dict(type="dict", options=dict(
            components=dict(type="list", elements="str", choices=["postgresql", "redis", "paths", "pitr"]),
            databases=dict(type="dict", default={}),
            no_owner=dict(type="bool", default=False),
            jobs=dict(type="int", default=2),
            paths=dict(type="list", elements="path"),
            paths_root=dict(type="path", default="/"),
            pitr=dict(type="dict", options=dict(
                data_directory=dict(type="path", required=True),
                target_time=dict(type="str"),
                wal_archive_dir=dict(type="path"),
                owner=dict(type="str", default="postgres"),
                target_action=dict(type="str", default="promote", choices=["promote", "pause", "shutdown"]),
            )),
        )),
        constitutional_hash=dict(type="str", default=CONSTITUTIONAL_HASH),
    )
    return spec


def empty_result(params):
    """Every key up front: the shape never depends on what happened."""
    return dict(changed=False, state=params.get("state"), backup_dir=params.get("backup_dir"),
                backup_id=None, backup_path=None, manifest={}, verification={}, restored={},
                removed=[], leftovers_removed=[], wal_removed=0, wal_cleanup=[], duration_seconds=0.0)


def _key(params):
    path = params.get("encryption_key_file")
    return store.load_key(path) if path else None


def _check_key(manifest, key):
    enc = manifest.get("encryption")
    if not enc:
        return None
    if key is None:
        raise BackupError("backup set %s is encrypted: encryption_key_file is required" % manifest["backup_id"])
    if store.key_fingerprint(key) != enc.get("key_fingerprint"):
        raise BackupError("wrong encryption key for backup set %s: key fingerprint %s, the set was made with %s" % (
            manifest["backup_id"], store.key_fingerprint(key), enc.get("key_fingerprint")))
    return key


def _file_name(base, compression, key):
    return base + store.COMPRESSORS[compression]["suffix"] + (store.ENC_SUFFIX if key else "")


def _entry(result, component, kind, compression, key, extra=None):
    entry = dict(result, component=component, kind=kind, compression=compression, encrypted=bool(key))
    entry.update(extra or {})
    return entry


# ---------------------------------------------------------------- present

def create_set(params, check_mode=False, warn=None):
    warn = warn or (lambda msg: None)
    started = time.time()
    result = empty_result(params)
    backup_dir = params["backup_dir"]
    pg_params = params.get("postgresql")
    redis_params = params.get("redis")
    paths = params.get("paths") or []
    if not (pg_params or redis_params or paths):
        raise BackupError("state=present needs at least one component: postgresql, redis or paths")
    try:
        chash = validate_hash(params.get("constitutional_hash") or CONSTITUTIONAL_HASH)
    except CatalogError as exc:
        raise BackupError("constitutional_hash: %s" % exc)
    compression = store.resolve_compression(params.get("compression") or "auto")
    key = _key(params)
    if pg_params and pg_params.get("format") == "directory" and key:
        raise BackupError("postgresql.format=directory cannot be encrypted: use format=custom with encryption_key_file")
    if check_mode:
        result["changed"] = True
        return result
    store.ensure_dir(backup_dir)
    secrets = [p.get("password") for p in (pg_params or {}, redis_params or {})]
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
                components["postgresql"] = _backup_postgresql(pg_params, partial, compression, key, files, tools, secrets)
            if redis_params:
                components["redis"] = _backup_redis(redis_params, partial, compression, key, files, tools, secrets)
            if paths:
                components["paths"] = _backup_paths(paths, partial, compression, key, files, tools, warn)
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
                "encryption": {"algorithm": store.ENC_ALGORITHM, "key_fingerprint": store.key_fingerprint(key)} if key else None,
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
            result["verification"] = verify_set(params, backup_id=backup_id, key=key, locked=True)
            if not result["verification"]["ok"]:
                raise BackupError("backup set %s was written but failed verification: %s" % (
                    backup_id, result["verification"]["summary"]), )
        retention = params.get("retention") or {}
        if retention.get("keep_last") or retention.get("max_age_days") is not None:
            result["removed"], result["wal_cleanup"] = _apply_retention(backup_dir, retention, protect=[backup_id])
            result["wal_removed"] = sum(len(c["removed"]) for c in result["wal_cleanup"])
    result["duration_seconds"] = round(time.time() - started, 3)
    return result


def _backup_postgresql(p, partial, compression, key, files, tools, secrets):
    conn = pg.connect(p)
    try:
        version = pg.server_version(conn)
        segment_size = pg.wal_segment_size(conn) if p.get("basebackup") else None
        databases = p.get("databases") or pg.list_databases(conn)
        owners = {}
        for db in databases:
            if not pg.database_exists(conn, db):
                raise BackupError("postgresql.databases: database %s does not exist on %s:%s" % (db, p.get("host"), p.get("port")))
            owners[db] = pg.database_owner(conn, db)
    finally:
        conn.close()
    tools["pg_dump"] = store.tool_version([pg.which("pg_dump") or "pg_dump", "--version"])
    env = pg.env_for(p)
    os.mkdir(os.path.join(partial, "postgresql"), 0o700)
    info = {"host": p.get("host"), "port": p.get("port"), "server_version": version, "format": p["format"], "databases": {}}
    for db in databases:
        holder = None
        snapshot = None
        checksums = None
        if p.get("data_checksums"):
            holder = pg.SnapshotHolder(p, db)
            snapshot = holder.snapshot
            checksums = pg.table_checksums(holder.conn)
        try:
            if p["format"] == "custom":
                name = "postgresql/%s.dump%s" % (db, store.ENC_SUFFIX if key else "")
                res = store.Pipeline(os.path.join(partial, name), "none", key, env=env, secrets=secrets).run(
                    pg.dump_argv(p, db, "custom", level=p["compress_level"], snapshot=snapshot), "pg_dump of %s" % db)
                files[name] = _entry(res, "postgresql", "pg_custom", "none", key, {"database": db})
                db_files = [name]
            else:
                rel = "postgresql/%s.dir" % db
                out_dir = os.path.join(partial, rel)
                proc = subprocess.Popen(pg.dump_argv(p, db, "directory", jobs=p["jobs"], level=p["compress_level"],
                                                     snapshot=snapshot, out_dir=out_dir),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, close_fds=True)
                err = proc.communicate()[1]
                if proc.returncode != 0:
                    raise BackupError("pg_dump of %s failed: %s" % (db, store.redact(err, secrets).strip()[-2000:]))
                os.chmod(out_dir, 0o700)
                db_files = []
                for fname in sorted(os.listdir(out_dir)):
                    path = os.path.join(out_dir, fname)
                    os.chmod(path, 0o600)
                    name = rel + "/" + fname
                    files[name] = _entry(store.checksum_file(path), "postgresql", "pg_dir", "none", None,
                                         {"database": db, "dump_dir": rel})
                    db_files.append(name)
        finally:
            if holder:
                holder.close()
        info["databases"][db] = {"owner": owners[db], "files": db_files, "checksums": checksums}
    if p.get("basebackup"):
        name = _file_name("postgresql/basebackup.tar", compression, key)
        pipe = store.Pipeline(os.path.join(partial, name), compression, key, env=env, secrets=secrets)
        base_started = time.time()
        res = pipe.run(pg.basebackup_argv(p), "pg_basebackup")
        files[name] = _entry(res, "basebackup", "tar", compression, key)
        info["basebackup"] = {"file": name, "wal_archive_dir": p.get("wal_archive_dir"),
                              "start_wal": wal.start_wal_from_basebackup_log(pipe.stderr[0] if pipe.stderr else "", segment_size),
                              "started_epoch": base_started, "finished_epoch": time.time()}
        tools["pg_basebackup"] = store.tool_version([pg.which("pg_basebackup") or "pg_basebackup", "--version"])
    return info


def _backup_redis(r, partial, compression, key, files, tools, secrets):
    client = rds.connect(r)
    try:
        described = rds.describe(client)
        os.mkdir(os.path.join(partial, "redis"), 0o700)
        name = _file_name("redis/dump.rdb", compression, key)
        res = store.Pipeline(os.path.join(partial, name), compression, key, secrets=secrets).run(
            client.sync_stream, "Redis snapshot from %s" % client.where)
    finally:
        client.close()
    files[name] = _entry(res, "redis", "redis_rdb", compression, key)
    tools["redis"] = described["version"]
    return {"host": r.get("host"), "port": r.get("port"), "version": described["version"], "keys": described["keys"], "file": name}


def _backup_paths(paths, partial, compression, key, files, tools, warn):
    tar = store.which("tar")
    if not tar:
        raise BackupError("tar is not installed")
    tools["tar"] = store.tool_version([tar, "--version"])
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
        name = _file_name("paths/%02d-%s.tar" % (index, slug), compression, key)
        pipe = store.Pipeline(os.path.join(partial, name), compression, key, ok_codes=(0, 1))
        res = pipe.run([tar, "--create", "--file=-", "--preserve-permissions", "--numeric-owner", "--sparse",
                        "--directory=/", path.lstrip("/") or "."], "tar of %s" % path)
        for message in pipe.warnings:
            warn(message)
        files[name] = _entry(res, "paths", "tar", compression, key, {"path": path})
        entries.append({"path": path, "file": name, "missing": False})
    return entries


# ---------------------------------------------------------------- verified

def verify_set(params, backup_id=None, key=None, keep_rdb_in=None, check_mode=False, locked=False):
    """Verifies a set under the store's lock (``locked``: the caller holds it)."""
    if not locked:
        if not os.path.isdir(params["backup_dir"]):
            raise BackupError("backup_dir %s does not exist" % params["backup_dir"])
        with store.StoreLock(params["backup_dir"]):
            return verify_set(params, backup_id, key, keep_rdb_in, check_mode, locked=True)
    return _verify_set(params, backup_id, key, keep_rdb_in, check_mode)


def _verify_set(params, backup_id=None, key=None, keep_rdb_in=None, check_mode=False):
    """Recomputes every checksum and checks every file is readable by its tool.

    Returns {ok, backup_id, files: {name: {ok, error}}, bad_files, summary}. With
    ``keep_rdb_in`` the decoded Redis snapshot is left there for a restore.
    """
    backup_dir = params["backup_dir"]
    chosen = store.select_set(backup_dir, backup_id or params.get("backup_id"))
    manifest = chosen["manifest"]
    key = _check_key(manifest, key if key is not None else _key(params))
    set_dir = chosen["path"]
    report = {}
    dump_dirs = set()
    scratch = tempfile.mkdtemp(prefix=".verify-", dir=backup_dir)
    try:
        for name in sorted(manifest["files"]):
            entry = manifest["files"][name]
            report[name] = _verify_file(set_dir, name, entry, key, scratch, keep_rdb_in)
            if entry.get("kind") == "pg_dir":
                dump_dirs.add(entry["dump_dir"])
        for rel in sorted(dump_dirs):
            if all(report[n]["ok"] for n, e in manifest["files"].items() if e.get("dump_dir") == rel):
                proc = subprocess.Popen(pg.list_argv(os.path.join(set_dir, rel)), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, close_fds=True)
                err = proc.communicate()[1]
                if proc.returncode != 0:
                    report[rel + "/toc.dat"] = {"ok": False, "error": "pg_restore --list failed: %s" % err.decode("utf-8", "replace").strip()[-500:]}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    bad = sorted(name for name, item in report.items() if not item["ok"])
    verification = {
        "ok": not bad,
        "backup_id": chosen["backup_id"],
        "verified_at": store.utc_iso(time.time()),
        "files": report,
        "bad_files": bad,
        "summary": "all %d files intact and readable" % len(report) if not bad else "; ".join(
            "%s: %s" % (name, report[name]["error"]) for name in bad),
    }
    if not check_mode:
        store.write_json_atomic(os.path.join(set_dir, store.VERIFICATION_NAME),
                                dict((k, verification[k]) for k in ("ok", "backup_id", "verified_at", "bad_files", "summary")))
    return verification


def _verify_file(set_dir, name, entry, key, scratch, keep_rdb_in):
    path = os.path.join(set_dir, name)
    if not os.path.isfile(path):
        return {"ok": False, "error": "file is missing"}
    size = os.path.getsize(path)
    if size != entry["size"]:
        return {"ok": False, "error": "size is %d bytes, the manifest says %d" % (size, entry["size"])}
    kind = entry.get("kind")
    problem = None
    try:
        if kind == "pg_custom" and not entry.get("encrypted"):
            observed = store.checksum_file(path)
            if observed["sha256"] == entry["sha256"]:
                proc = subprocess.Popen(pg.list_argv(path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, close_fds=True)
                err = proc.communicate()[1]
                if proc.returncode != 0:
                    problem = "pg_restore --list failed: %s" % err.decode("utf-8", "replace").strip()[-500:]
        elif kind == "pg_custom":
            observed, problem = store.run_consumer(path, entry, key, pg.list_argv(), name)
        elif kind == "redis_rdb":
            rdb_dir = keep_rdb_in or scratch
            rdb = os.path.join(rdb_dir, "dump.rdb")
            observed, problem = store.run_consumer(path, entry, key, ["dd", "of=" + rdb, "bs=1M", "status=none"], name)
            if problem is None and observed["sha256"] == entry["sha256"]:
                ok, why = rds.check_rdb(rdb)
                if not ok:
                    problem = "redis-check-rdb: %s" % why
        elif kind == "tar":
            observed, problem = store.run_consumer(path, entry, key, ["tar", "-tf", "-"], name)
        else:
            observed = store.checksum_file(path, key, entry)
    except BackupError as exc:
        return {"ok": False, "error": str(exc)}
    if observed["sha256"] != entry["sha256"]:
        return {"ok": False, "error": "sha256 mismatch: %s, the manifest says %s" % (observed["sha256"], entry["sha256"])}
    if problem:
        return {"ok": False, "error": problem}
    return {"ok": True, "error": None}


# ---------------------------------------------------------------- restored

def _restore_components(manifest, options):
    present = [c for c in ("postgresql", "redis", "paths") if manifest["components"].get(c)]
    wanted = options.get("components")
    if wanted is None:
        wanted = present + (["pitr"] if options.get("pitr") else [])
    for comp in wanted:
        if comp == "pitr":
            if not (manifest["components"].get("postgresql") or {}).get("basebackup"):
                raise BackupError("restore.components: pitr needs a set with a base backup (postgresql.basebackup=true)")
            if not options.get("pitr"):
                raise BackupError("restore.components: pitr needs restore.pitr.data_directory")
        elif comp not in present:
            raise BackupError("restore.components: backup set %s has no %s component" % (manifest["backup_id"], comp))
    return wanted


def restore_set(params, check_mode=False, warn=None):
    """Restores under the store's lock, so retention cannot remove the set meanwhile."""
    if not os.path.isdir(params["backup_dir"]):
        raise BackupError("backup_dir %s does not exist" % params["backup_dir"])
    with store.StoreLock(params["backup_dir"]):
        return _restore_set(params, check_mode, warn)


def _wants_pitr(options):
    components = options.get("components")
    return bool(options.get("pitr")) and (components is None or "pitr" in components)


def _restore_set(params, check_mode=False, warn=None):
    warn = warn or (lambda msg: None)
    started = time.time()
    result = empty_result(params)
    options = params.get("restore") or {}
    force = params.get("force")
    backup_dir = params["backup_dir"]
    if _wants_pitr(options):
        chosen = wal.select_pitr_set(store.list_sets(backup_dir), (options.get("pitr") or {}).get("target_time"),
                                     params.get("backup_id"))
    else:
        chosen = store.select_set(backup_dir, params.get("backup_id"))
    manifest = chosen["manifest"]
    result.update(backup_id=chosen["backup_id"], backup_path=chosen["path"], manifest=manifest)
    key = _check_key(manifest, _key(params))
    wanted = _restore_components(manifest, options)
    pg_params = params.get("postgresql")
    redis_params = params.get("redis")
    if "postgresql" in wanted and not pg_params:
        raise BackupError("restoring the postgresql component needs the postgresql connection options")
    if "redis" in wanted and not redis_params:
        raise BackupError("restoring the redis component needs the redis connection options")

    workdir = tempfile.mkdtemp(prefix=".restore-", dir=backup_dir)
    try:
        verification = verify_set(params, backup_id=chosen["backup_id"], key=key, keep_rdb_in=workdir, check_mode=check_mode, locked=True)
        result["verification"] = verification
        if not verification["ok"]:
            raise BackupError("refusing to restore backup set %s: it fails verification: %s" % (
                chosen["backup_id"], verification["summary"]))
        plan = _precheck_targets(manifest, wanted, options, pg_params, redis_params, force)
        result["restored"] = {"plan": plan}
        if check_mode:
            result["changed"] = True
            return result
        restored = {"plan": plan}
        if "postgresql" in wanted:
            restored["postgresql"] = _restore_postgresql(chosen, manifest, options, pg_params, key)
        if "redis" in wanted:
            restored["redis"] = _restore_redis(workdir, redis_params, force)
        if "paths" in wanted:
            restored["paths"] = _restore_paths(chosen, manifest, options, key)
        if "pitr" in wanted:
            restored["pitr"] = _restore_pitr(chosen, manifest, options["pitr"], key, force)
        result.update(changed=True, restored=restored)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result["duration_seconds"] = round(time.time() - started, 3)
    return result


def _is_nonempty_path(path):
    if os.path.isdir(path) and not os.path.islink(path):
        return bool(os.listdir(path))
    return os.path.lexists(path)


def _precheck_targets(manifest, wanted, options, pg_params, redis_params, force):
    """Checks every target before anything changes; refuses non-empty ones without force."""
    plan = {}
    refusals = []
    if "postgresql" in wanted:
        mapping = options.get("databases") or {}
        conn = pg.connect(pg_params)
        try:
            plan["postgresql"] = {}
            for db in manifest["components"]["postgresql"]["databases"]:
                target = mapping.get(db, db)
                state = "absent"
                if pg.database_exists(conn, target):
                    tconn = pg.connect(pg_params, target)
                    try:
                        state = "non-empty" if pg.user_relation_count(tconn) else "empty"
                    finally:
                        tconn.close()
                if state == "non-empty" and not force:
                    refusals.append("database %s on %s:%s is not empty" % (target, pg_params.get("host"), pg_params.get("port")))
                plan["postgresql"][db] = {"target": target, "target_state": state}
        finally:
            conn.close()
    if "redis" in wanted:
        client = rds.connect(redis_params)
        try:
            keys = rds.total_keys(client)
        finally:
            client.close()
        if keys and not force:
            refusals.append("Redis at %s:%s holds %d keys" % (redis_params.get("host"), redis_params.get("port"), keys))
        plan["redis"] = {"target_keys": keys}
    if "paths" in wanted:
        root = options.get("paths_root") or "/"
        plan["paths"] = []
        for item in _selected_paths(manifest, options):
            dest = os.path.join(root, item["path"].lstrip("/"))
            busy = _is_nonempty_path(dest)
            if busy and not force:
                refusals.append("path %s is not empty" % dest)
            plan["paths"].append({"path": item["path"], "target": dest, "target_state": "non-empty" if busy else "empty"})
    if "pitr" in wanted:
        data_dir = options["pitr"]["data_directory"]
        busy = _is_nonempty_path(data_dir)
        if busy and not force:
            refusals.append("data directory %s is not empty" % data_dir)
        plan["pitr"] = {"data_directory": data_dir, "target_state": "non-empty" if busy else "empty"}
    if refusals:
        raise BackupError("refusing to restore into a non-empty target without force=true: %s" % "; ".join(refusals))
    return plan


def _selected_paths(manifest, options):
    chosen = options.get("paths")
    items = [i for i in manifest["components"].get("paths") or [] if i.get("file")]
    if chosen:
        chosen = [os.path.normpath(p) for p in chosen]
        missing = [p for p in chosen if p not in [i["path"] for i in items]]
        if missing:
            raise BackupError("restore.paths: %s not in backup set %s" % (", ".join(missing), manifest["backup_id"]))
        items = [i for i in items if i["path"] in chosen]
    return items


def _restore_postgresql(chosen, manifest, options, p, key):
    mapping = options.get("databases") or {}
    jobs = options.get("jobs") or 1
    env = pg.env_for(p)
    secrets = [p.get("password")]
    out = {}
    for db, info in manifest["components"]["postgresql"]["databases"].items():
        target = mapping.get(db, db)
        t0 = time.time()
        conn = pg.connect(p)
        try:
            pg.recreate_database(conn, target, info.get("owner"), password=p.get("password"))
        finally:
            conn.close()
        names = info["files"]
        entry = manifest["files"][names[0]]
        if entry["kind"] == "pg_dir":
            path = os.path.join(chosen["path"], entry["dump_dir"])
            argv = pg.restore_argv(p, target, path, jobs, options.get("no_owner"))
            problem = _run(argv, env, secrets)
        elif entry.get("encrypted"):
            observed, problem = store.run_consumer(os.path.join(chosen["path"], names[0]), entry, key,
                                                   pg.restore_argv(p, target, None, 1, options.get("no_owner")),
                                                   names[0], env=env, secrets=secrets)
        else:
            argv = pg.restore_argv(p, target, os.path.join(chosen["path"], names[0]), jobs, options.get("no_owner"))
            problem = _run(argv, env, secrets)
        if problem:
            raise BackupError("restore of database %s into %s failed: %s" % (db, target, problem))
        tconn = pg.connect(p, target)
        try:
            if info.get("checksums") is not None:
                sums = pg.table_checksums(tconn)
                counts = dict((t, v["rows"]) for t, v in sums.items())
                mismatched = sorted(t for t in set(sums) | set(info["checksums"]) if sums.get(t) != info["checksums"].get(t))
                data_match = not mismatched
            else:
                counts = pg.row_counts(tconn)
                mismatched = []
                data_match = None
        finally:
            tconn.close()
        out[db] = {"target": target, "rows": counts, "total_rows": sum(counts.values()), "data_match": data_match,
                   "mismatched_tables": mismatched, "seconds": round(time.time() - t0, 3)}
    return out


def _run(argv, env, secrets):
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, close_fds=True)
    err = proc.communicate()[1]
    if proc.returncode != 0:
        return "%s exited with %s: %s" % (os.path.basename(argv[0]), proc.returncode, store.redact(err, secrets).strip()[-2000:])
    return None


def _restore_redis(workdir, r, force):
    rdb = os.path.join(workdir, "dump.rdb")
    with rds.ScratchRedis(rdb, workdir) as scratch:
        source_keys = dict(("db%d" % k, v) for k, v in scratch.client.keyspace().items())
        target = rds.connect(r)
        try:
            if force:
                target.call("FLUSHALL")
            copied = rds.copy_keys(scratch.client, target)
            after = dict(("db%d" % k, v) for k, v in sorted(target.keyspace().items()))
        finally:
            target.close()
    return {"target": "%s:%s" % (r.get("host"), r.get("port")), "keys": after, "total_keys": sum(after.values()),
            "snapshot_keys": source_keys, "copied": copied}


def _restore_paths(chosen, manifest, options, key):
    root = options.get("paths_root") or "/"
    store.ensure_dir(root, 0o755) if not os.path.isdir(root) else None
    out = []
    for item in _selected_paths(manifest, options):
        entry = manifest["files"][item["file"]]
        observed, problem = store.run_consumer(
            os.path.join(chosen["path"], item["file"]), entry, key,
            ["tar", "--extract", "--file=-", "--preserve-permissions", "--same-owner", "--numeric-owner", "--directory=" + root],
            item["file"])
        if problem:
            raise BackupError("restore of %s failed: %s" % (item["path"], problem))
        dest = os.path.join(root, item["path"].lstrip("/"))
        count = 0
        for dummy, dirs, names in os.walk(dest):
            count += len(names)
        out.append({"path": item["path"], "target": dest, "files": count})
    return out


def _restore_pitr(chosen, manifest, pitr, key, force):
    info = manifest["components"]["postgresql"]["basebackup"]
    entry = manifest["files"][info["file"]]
    data_dir = pitr["data_directory"]
    archive = pitr.get("wal_archive_dir") or info.get("wal_archive_dir")
    if not archive:
        raise BackupError("restore.pitr.wal_archive_dir is required (the set does not name its WAL archive)")
    if not os.path.isdir(archive):
        raise BackupError("restore.pitr.wal_archive_dir %s does not exist" % archive)
    if os.path.isdir(data_dir) and force:
        for name in os.listdir(data_dir):
            store.remove_tree(os.path.join(data_dir, name))
    store.ensure_dir(data_dir, 0o700)
    observed, problem = store.run_consumer(os.path.join(chosen["path"], info["file"]), entry, key,
                                           ["tar", "--extract", "--file=-", "--directory=" + data_dir], info["file"])
    if problem:
        raise BackupError("restore of the base backup into %s failed: %s" % (data_dir, problem))
    with open(os.path.join(data_dir, "recovery.signal"), "w"):
        pass
    with open(os.path.join(data_dir, "postgresql.auto.conf"), "a") as handle:
        handle.write(pg.recovery_settings(archive, pitr.get("target_time"), pitr.get("target_action") or "promote"))
    owner = pitr.get("owner") or "postgres"
    proc = subprocess.Popen(["chown", "-R", "%s:" % owner, data_dir], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.communicate()[1]
    if proc.returncode != 0:
        raise BackupError("chown -R %s %s failed: %s" % (owner, data_dir, err.decode("utf-8", "replace").strip()))
    return {"data_directory": data_dir, "wal_archive_dir": archive, "target_time": pitr.get("target_time"),
            "prepared": True, "note": "start the server: it replays the WAL archive up to the target, then promotes"}


# ---------------------------------------------------------------- absent

def _apply_retention(backup_dir, retention, protect=(), check_mode=False):
    """Removes the sets retention drops, then the WAL segments older than the oldest
    base backup still kept. Returns (removed ids, [{archive, oldest_kept_wal, removed}])."""
    sets = store.list_sets(backup_dir)
    doomed = store.plan_retention(sets, retention.get("keep_last"), retention.get("max_age_days"), protect=protect)
    if not check_mode:
        for backup_id in doomed:
            store.remove_tree(os.path.join(backup_dir, backup_id))
        if doomed:
            store.fsync_dir(backup_dir)
    kept = [s for s in sets if s["backup_id"] not in doomed]
    plans, skipped = wal.plan_wal_cleanup(kept, [s for s in sets if s["backup_id"] in doomed])
    cleanup = []
    for plan in plans:
        version = ((kept[0]["manifest"].get("components") or {}).get("postgresql") or {}).get("server_version") if kept else None
        removed = wal.cleanup_archive(plan["archive"], plan["oldest_kept_wal"], check_mode, version)
        cleanup.append(dict(plan, removed=removed))
    for item in skipped:
        cleanup.append({"archive": item["archive"], "oldest_kept_wal": None, "backup_id": None, "removed": [],
                        "skipped": item["reason"]})
    return doomed, cleanup


def remove_sets(params, check_mode=False):
    started = time.time()
    result = empty_result(params)
    backup_dir = params["backup_dir"]
    if not os.path.isdir(backup_dir):
        return result
    retention = params.get("retention") or {}
    backup_id = params.get("backup_id")
    if not backup_id and not (retention.get("keep_last") or retention.get("max_age_days") is not None):
        raise BackupError("state=absent needs backup_id or retention (keep_last and/or max_age_days)")
    with store.StoreLock(backup_dir):
        leftovers = store.find_leftovers(backup_dir)
        result["leftovers_removed"] = [os.path.basename(p) for p in leftovers]
        if not check_mode:
            for path in leftovers:
                store.remove_tree(path)
        if backup_id:
            if not store.ID_RE.match(backup_id):
                raise BackupError("backup_id %r is malformed: expected backup-<epoch>" % backup_id)
            path = os.path.join(backup_dir, backup_id)
            if os.path.isdir(path):
                result["removed"] = [backup_id]
                if not check_mode:
                    store.remove_tree(path)
                    store.fsync_dir(backup_dir)
        else:
            result["removed"], result["wal_cleanup"] = _apply_retention(backup_dir, retention, check_mode=check_mode)
            result["wal_removed"] = sum(len(c["removed"]) for c in result["wal_cleanup"])
    result["backup_id"] = backup_id
    result["changed"] = bool(result["removed"] or result["leftovers_removed"] or result["wal_removed"])
    result["duration_seconds"] = round(time.time() - started, 3)
    return result


def info(backup_dir, backup_id=None):
    sets = store.list_sets(backup_dir)
    if backup_id:
        sets = [s for s in sets if s["backup_id"] == backup_id]
    out = []
    for item in sets:
        verification = item["verification"] or {}
        out.append({
            "backup_id": item["backup_id"],
            "path": item["path"],
            "created": item["manifest"].get("created"),
            "age_seconds": round(time.time() - item["created_epoch"], 1),
            "total_size": item["manifest"].get("total_size"),
            "components": sorted(item["manifest"].get("components", {})),
            "encrypted": bool(item["manifest"].get("encryption")),
            "verified": verification.get("ok"),
            "verified_at": verification.get("verified_at"),
            "manifest": item["manifest"],
        })
    leftovers = [os.path.basename(p) for p in store.find_leftovers(backup_dir)] if os.path.isdir(backup_dir) else []
    return out, leftovers

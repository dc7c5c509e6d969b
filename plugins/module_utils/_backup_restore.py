# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: acgs_backup state=restored - put a backup set back, fully or partly.

The set is verified first and every target checked before anything changes (a
non-empty one is refused without force); PostgreSQL databases are recreated and
loaded with pg_restore, Redis keys copied into the running target, paths
extracted, or a cluster's data directory prepared for point-in-time recovery.
Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess
import tempfile
import time

from ansible_collections.acgs.platform.plugins.module_utils import _backup_postgresql as pg
from ansible_collections.acgs.platform.plugins.module_utils import _backup_store as store
from ansible_collections.acgs.platform.plugins.module_utils import _backup_wal as wal
from ansible_collections.acgs.platform.plugins.module_utils import _postgres, _redis
from ansible_collections.acgs.platform.plugins.module_utils._backup_crypto import check_key, key_from_params
from ansible_collections.acgs.platform.plugins.module_utils._backup_redis import ScratchRedis
from ansible_collections.acgs.platform.plugins.module_utils._backup_store import BackupError
from ansible_collections.acgs.platform.plugins.module_utils._backup_stream import cpu_count, run_consumer, run_parallel, run_tool
from ansible_collections.acgs.platform.plugins.module_utils._backup_verify import plain_dump_path, toc_path, verify_set
from ansible_collections.acgs.platform.plugins.module_utils._connection import where


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


def restore_set(params, check_mode=False):
    """Restores under the store's lock, so retention cannot remove the set meanwhile."""
    with store.locked(params["backup_dir"]):
        return _restore_set(params, check_mode)


def _wants_pitr(options):
    components = options.get("components")
    return bool(options.get("pitr")) and (components is None or "pitr" in components)


def _restore_set(params, check_mode):
    started = time.time()
    result = store.empty_result(params)
    options = params.get("restore") or {}
    force = params.get("force")
    backup_dir = params["backup_dir"]
    if _wants_pitr(options):
        chosen = wal.select_pitr_set(store.list_sets(backup_dir), (options.get("pitr") or {}).get("target_time"),
                                     params.get("backup_id"))
    else:
        chosen = store.select_set(backup_dir, params.get("backup_id"))
    manifest = store.check_format(chosen["manifest"])
    result.update(backup_id=chosen["backup_id"], backup_path=chosen["path"], manifest=manifest)
    key = check_key(manifest, key_from_params(params))
    wanted = _restore_components(manifest, options)
    pg_params = _postgres.resolve(params["postgresql"]) if params.get("postgresql") else None
    redis_params = _redis.resolve(params["redis"]) if params.get("redis") else None
    if "postgresql" in wanted and not pg_params:
        raise BackupError("restoring the postgresql component needs the postgresql connection options")
    if "redis" in wanted and not redis_params:
        raise BackupError("restoring the redis component needs the redis connection options")

    workdir = tempfile.mkdtemp(prefix=".restore-", dir=backup_dir)
    try:
        verification = verify_set(params, backup_id=chosen["backup_id"], key=key, keep_rdb_in=workdir, check_mode=check_mode,
                                  keep_dumps_in=workdir if "postgresql" in wanted and not check_mode else None)
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
            restored["postgresql"] = _restore_postgresql(chosen, manifest, options, pg_params, key, workdir)
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
        conn = _postgres.connect(pg_params)
        try:
            plan["postgresql"] = {}
            for db in manifest["components"]["postgresql"]["databases"]:
                target = mapping.get(db, db)
                state = "absent"
                if pg.database_exists(conn, target):
                    tconn = _postgres.connect(pg_params, target)
                    try:
                        state = "non-empty" if pg.user_relation_count(tconn) else "empty"
                    finally:
                        tconn.close()
                if state == "non-empty" and not force:
                    refusals.append("database %s on %s is not empty" % (target, where(pg_params)))
                plan["postgresql"][db] = {"target": target, "target_state": state}
        finally:
            conn.close()
    if "redis" in wanted:
        client = _redis.connect(redis_params)
        try:
            keys = sum(_redis.keyspace(client).values())
        finally:
            client.close()
        if keys and not force:
            refusals.append("Redis at %s holds %d keys" % (where(redis_params), keys))
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


def _restore_postgresql(chosen, manifest, options, p, key, workdir):
    mapping = options.get("databases") or {}
    jobs = options.get("jobs") or cpu_count()
    env = pg.env_for(p)
    secrets = [p.get("login_password")]
    out = {}
    for db, info in manifest["components"]["postgresql"]["databases"].items():
        target = mapping.get(db, db)
        t0 = time.time()
        conn = _postgres.connect(p)
        try:
            pg.recreate_database(conn, target, info.get("owner"))
        finally:
            conn.close()
        names = info["files"]
        entry = manifest["files"][names[0]]
        tables = [n for n in names[1:] if manifest["files"][n].get("table")]
        toc = toc_path(workdir, names[0])
        plain = plain_dump_path(workdir, names[0])
        if entry["kind"] == "pg_dir":
            path = os.path.join(chosen["path"], entry["dump_dir"])
        elif os.path.isfile(toc) or tables and os.path.isfile(plain):
            # the decoded whole dump, when verification had to keep it, serves as the table of contents
            path = None
            source = toc if os.path.isfile(toc) else plain
            problem = _restore_streamed(chosen, [names[0]] + tables, key, source, (p, target, jobs, options.get("no_owner")),
                                        info.get("table_bytes") or {}, env, secrets)
            os.unlink(source)
        elif os.path.isfile(plain):
            # decoded whole by the verification (a table of contents too long to keep apart)
            path = plain
        elif entry.get("encrypted") or entry.get("compression", "none") != "none":
            raise BackupError("restore of database %s: %s was not decoded by the verification" % (db, names[0]))
        else:
            path = os.path.join(chosen["path"], names[0])
        if path:
            problem = run_tool(pg.restore_argv(p, target, path, jobs, options.get("no_owner")), env, secrets)
            if path.startswith(workdir + os.sep):
                os.unlink(path)
        if problem:
            raise BackupError("restore of database %s into %s failed: %s" % (db, target, problem))
        tconn = _postgres.connect(p, target)
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


def _restore_streamed(chosen, names, key, toc, target, sizes, env, secrets):
    """Restore a compressed or encrypted custom-format dump without decoding it to disk; the problem or None.

    pg_restore runs its parallel jobs only on a seekable file, and decoding the whole
    dump into one first would put that on the critical path. So: the pre-data section
    from the decoded table of contents (``toc``, kept by the verification); the data
    section in ``jobs`` pg_restore processes at once, each fed a file of the set
    through its own decompressor (and decryption): the tables that have a file of
    their own (``names[1:]``, format 3) one stream each, the others of the
    database's dump (``names[0]``) cut into lists (``--use-list``, balanced by the
    table sizes recorded at backup time), largest first; so the decompression runs
    beside the loading and no stream reads past a large table it does not load.
    Then the post-data section (indexes, constraints, privileges) with ``jobs``
    parallel jobs from the table of contents.
    """
    p, dbname, jobs, no_owner = target
    files = chosen["manifest"]["files"]
    problem = run_tool(pg.restore_argv(p, dbname, toc, 1, no_owner, ["--section=pre-data"]), env, secrets)
    if problem:
        return problem
    try:
        listing = subprocess.check_output(pg.list_argv(toc, ["--section=data"]), stderr=subprocess.STDOUT, close_fds=True)
    except subprocess.CalledProcessError as exc:
        return "pg_restore --list exited with %s: %s" % (exc.returncode, exc.output.decode("utf-8", "replace").strip())
    streams = [(load, names[0], entries) for load, entries in
               pg.split_data_entries(listing.decode("utf-8", "replace"), max(1, jobs - len(names) + 1), sizes)]
    streams += [(sizes.get(files[name]["table"], 0), name, None) for name in names[1:]]
    streams.sort(key=lambda stream: -stream[0])

    def _load(index, name, entries):
        extra = ["--data-only"]
        if entries is not None:
            list_file = "%s.data%d" % (toc, index)
            with open(list_file, "w") as handle:
                handle.write(entries)
            extra.append("--use-list=" + list_file)
        argv = pg.restore_argv(p, dbname, None, 1, no_owner, extra)
        return run_consumer(os.path.join(chosen["path"], name), files[name], key, argv, name, env=env, secrets=secrets,
                            checksum=False)[1]

    problems = run_parallel([lambda i=index, s=stream: _load(i, s[1], s[2]) for index, stream in enumerate(streams)], jobs)
    problem = "; ".join(sorted(set(text for text in problems if text)))
    if problem:
        return problem
    return run_tool(pg.restore_argv(p, dbname, toc, jobs, no_owner, ["--section=post-data"]), env, secrets)


def _restore_redis(workdir, r, force):
    with ScratchRedis(os.path.join(workdir, "dump.rdb"), workdir) as scratch:
        client = _redis.connect(scratch.params)
        try:
            source_keys = _redis.keyspace(client)
        finally:
            client.close()
        if force:
            target = _redis.connect(r)
            try:
                target.flushall()
            finally:
                target.close()
        copied = _redis.copy_keys(scratch.params, r)
    target = _redis.connect(r)
    try:
        after = _redis.keyspace(target)
    finally:
        target.close()
    return {"target": where(r), "keys": after, "total_keys": sum(after.values()), "snapshot_keys": source_keys,
            "copied": copied}


def _extract(chosen, name, key, tar_options, what):
    """Untar the file ``name`` of the set (decrypted, decompressed on the way); BackupError naming ``what``."""
    problem = run_consumer(os.path.join(chosen["path"], name), chosen["manifest"]["files"][name], key,
                           ["tar", "--extract", "--file=-"] + tar_options, name)[1]
    if problem:
        raise BackupError("restore of %s failed: %s" % (what, problem))


def _restore_paths(chosen, manifest, options, key):
    root = options.get("paths_root") or "/"
    if not os.path.isdir(root):
        store.ensure_dir(root, 0o755)
    out = []
    for item in _selected_paths(manifest, options):
        _extract(chosen, item["file"], key, ["--preserve-permissions", "--same-owner", "--numeric-owner", "--directory=" + root],
                 item["path"])
        dest = os.path.join(root, item["path"].lstrip("/"))
        count = sum(len(names) for dummy_root, dummy_dirs, names in os.walk(dest))
        out.append({"path": item["path"], "target": dest, "files": count})
    return out


def _restore_pitr(chosen, manifest, pitr, key, force):
    info = manifest["components"]["postgresql"]["basebackup"]
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
    _extract(chosen, info["file"], key, ["--directory=" + data_dir], "the base backup into %s" % data_dir)
    with open(os.path.join(data_dir, "recovery.signal"), "w"):
        pass
    with open(os.path.join(data_dir, "postgresql.auto.conf"), "a") as handle:
        handle.write(pg.recovery_settings(archive, pitr.get("target_time"), pitr.get("target_action") or "promote"))
    owner = pitr.get("owner") or "postgres"
    problem = run_tool(["chown", "-R", "%s:" % owner, data_dir])
    if problem:
        raise BackupError("giving %s to %s failed: %s" % (data_dir, owner, problem))
    return {"data_directory": data_dir, "wal_archive_dir": archive, "target_time": pitr.get("target_time"),
            "prepared": True, "note": "start the server: it replays the WAL archive up to the target, then promotes"}

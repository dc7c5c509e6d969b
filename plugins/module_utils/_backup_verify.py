# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: acgs_backup state=verified - check a backup set file by file.

Every checksum is recomputed from the stored bytes and every file is read by its
tool (``pg_restore --list``, ``redis-check-rdb``, ``tar -t``); the report names
each bad file. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import tempfile
import time

from ansible_collections.acgs.platform.plugins.module_utils import _backup_store as store
from ansible_collections.acgs.platform.plugins.module_utils._backup_crypto import check_key, key_from_params
from ansible_collections.acgs.platform.plugins.module_utils._backup_postgresql import list_argv
from ansible_collections.acgs.platform.plugins.module_utils._backup_redis import check_rdb
from ansible_collections.acgs.platform.plugins.module_utils._backup_store import BackupError
from ansible_collections.acgs.platform.plugins.module_utils._backup_stream import checksum_file, require_tool, run_consumer, run_tool


def verified_set(params, check_mode=False):
    """state=verified: the result for the set ``backup_id`` (default the newest) with its verification."""
    result = store.empty_result(params)
    with store.locked(params["backup_dir"]):
        chosen = store.select_set(params["backup_dir"], params.get("backup_id"))
        result.update(backup_id=chosen["backup_id"], backup_path=chosen["path"], manifest=chosen["manifest"],
                      verification=verify_set(params, chosen["backup_id"], check_mode=check_mode))
    return result


def verify_set(params, backup_id=None, key=None, keep_rdb_in=None, check_mode=False, keep_dumps_in=None):
    """Recomputes every checksum and checks every file is readable by its tool; the caller holds the store's lock.

    Returns {ok, backup_id, files: {name: {ok, error}}, bad_files, summary}. With
    ``keep_rdb_in`` the decoded Redis snapshot is left there for a restore; with
    ``keep_dumps_in`` so is the decoded table of contents of every custom-format dump
    that is compressed or encrypted in the set (_decode_dump), from the same pass as
    its checksum.
    """
    backup_dir = params["backup_dir"]
    chosen = store.select_set(backup_dir, backup_id or params.get("backup_id"))
    manifest = store.check_format(chosen["manifest"])
    key = check_key(manifest, key if key is not None else key_from_params(params))
    set_dir = chosen["path"]
    report = {}
    dump_dirs = set()
    scratch = tempfile.mkdtemp(prefix=".verify-", dir=backup_dir)
    try:
        for name in sorted(manifest["files"]):
            entry = manifest["files"][name]
            report[name] = _verify_file(set_dir, name, entry, key, scratch, keep_rdb_in, keep_dumps_in)
            if entry.get("kind") == "pg_dir":
                dump_dirs.add(entry["dump_dir"])
        for rel in sorted(dump_dirs):
            if all(report[n]["ok"] for n, e in manifest["files"].items() if e.get("dump_dir") == rel):
                problem = run_tool(list_argv(os.path.join(set_dir, rel)))
                if problem:
                    report[rel + "/toc.dat"] = {"ok": False, "error": problem}
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


TOC_PREFIX_BYTES = 64 * 1024 * 1024


def plain_dump_path(workdir, name):
    """Where verify_set(keep_dumps_in=workdir) leaves the whole decoded dump of the set's file ``name``, if it had to."""
    return os.path.join(workdir, name.replace("/", "_") + ".plain")


def toc_path(workdir, name):
    """Where verify_set(keep_dumps_in=workdir) leaves the decoded head of that dump: its table of contents."""
    return os.path.join(workdir, name.replace("/", "_") + ".toc")


def _decode_dump(path, entry, key, name, workdir):
    """(observed, problem) of a compressed or encrypted custom-format dump that is about to be restored.

    One pass hashes the whole stored file and keeps its decoded head (at most
    TOC_PREFIX_BYTES) in toc_path: the archive's table of contents, which
    ``pg_restore --list`` reads, and from which the restore runs the pre- and
    post-data sections with parallel jobs while the data streams from the set
    (_backup_restore). A table of contents longer than that is rare; then the
    whole dump is decoded into plain_dump_path instead, which is slower.
    """
    toc = toc_path(workdir, name)
    with open(toc, "wb") as out:
        observed, problem = run_consumer(path, entry, key, ["head", "-c", str(TOC_PREFIX_BYTES)], name, stdout=out)
    if problem is not None or observed["sha256"] != entry["sha256"]:
        return observed, problem
    problem = run_tool(list_argv(toc))
    if problem and os.path.getsize(toc) == TOC_PREFIX_BYTES:
        os.unlink(toc)
        plain = plain_dump_path(workdir, name)
        if entry.get("compression") == "zstd":
            # zstd writes the file itself: one process between the reader and the disk
            consumer = [require_tool("zstd"), "-q", "-d", "-f", "-o", plain]
            entry = dict(entry, compression="none")
        else:
            consumer = ["dd", "of=" + plain, "bs=1M", "status=none"]
        problem = run_consumer(path, entry, key, consumer, name, checksum=False)[1] or run_tool(list_argv(plain))
    return observed, problem


def _verify_file(set_dir, name, entry, key, scratch, keep_rdb_in, keep_dumps_in=None):
    path = os.path.join(set_dir, name)
    if not os.path.isfile(path):
        return {"ok": False, "error": "file is missing"}
    size = os.path.getsize(path)
    if size != entry["size"]:
        return {"ok": False, "error": "size is %d bytes, the manifest says %d" % (size, entry["size"])}
    kind = entry.get("kind")
    problem = None
    try:
        plain = not entry.get("encrypted") and entry.get("compression", "none") == "none"
        if kind == "pg_custom" and plain:
            observed = checksum_file(path)
            if observed["sha256"] == entry["sha256"]:
                problem = run_tool(list_argv(path))
        elif kind == "pg_custom" and keep_dumps_in and not entry.get("table"):
            observed, problem = _decode_dump(path, entry, key, name, keep_dumps_in)
        elif kind == "pg_custom":
            observed, problem = run_consumer(path, entry, key, list_argv(), name)
        elif kind == "redis_rdb":
            rdb = os.path.join(keep_rdb_in or scratch, "dump.rdb")
            observed, problem = run_consumer(path, entry, key, ["dd", "of=" + rdb, "bs=1M", "status=none"], name)
            if problem is None and observed["sha256"] == entry["sha256"]:
                ok, why = check_rdb(rdb)
                if not ok:
                    problem = "redis-check-rdb: %s" % why
        elif kind == "tar":
            observed, problem = run_consumer(path, entry, key, ["tar", "-tf", "-"], name)
        else:
            observed = checksum_file(path, key, entry)
    except BackupError as exc:
        return {"ok": False, "error": str(exc)}
    if observed["sha256"] != entry["sha256"]:
        return {"ok": False, "error": "sha256 mismatch: %s, the manifest says %s" % (observed["sha256"], entry["sha256"])}
    if problem:
        return {"ok": False, "error": problem}
    return {"ok": True, "error": None}

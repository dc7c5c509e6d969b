# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the backup store of acgs_backup - sets, manifests, the lock, listing.

A backup set is a directory ``<backup_dir>/backup-<epoch>`` holding the data files
and ``manifest.json``. A set is built in ``<backup_dir>/.backup-<epoch>.partial`` and
renamed into place only after its manifest is written (temporary file, fsync,
rename) and fsynced, so a set without a complete manifest is never listed; the
next run removes such leftovers under the store's lock. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import json
import os
import re
import shutil
import socket
import tempfile
import time

from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError

# 2: custom-format dumps may be zstd-compressed (compression in each file entry); 3: a database's largest
# tables may have their data in files of their own (the entry's "table"). Older sets still read.
FORMAT_VERSION = 3
MANIFEST_NAME = "manifest.json"
VERIFICATION_NAME = "verification.json"
LOCK_NAME = ".lock"
PARTIAL_SUFFIX = ".partial"
ID_RE = re.compile(r"^backup-(\d+)$")
PARTIAL_RE = re.compile(r"^\.(backup-\d+\.partial|verify-.*|restore-.*)$")


class BackupError(OperatorError):
    """A backup, verification or restore that cannot go on; the message says why."""


def empty_result(params):
    """The result of acgs_backup with every key up front: its shape never depends on what happened."""
    return dict(changed=False, state=params.get("state"), backup_dir=params.get("backup_dir"),
                backup_id=None, backup_path=None, manifest={}, verification={}, restored={},
                removed=[], leftovers_removed=[], wal_removed=0, wal_cleanup=[], duration_seconds=0.0)


def utc_iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def host_name():
    try:
        return socket.getfqdn()
    except Exception:  # noqa: BLE001
        return socket.gethostname()


# ---------------------------------------------------------------- filesystem

def ensure_dir(path, mode=0o700):
    if not os.path.isdir(path):
        os.makedirs(path, mode)
    os.chmod(path, mode)


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomic(path, data):
    """Temporary file in the same directory, fsync, rename, fsync the directory."""
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    fsync_dir(directory)


def list_dir_safe(path):
    try:
        return sorted(os.listdir(path))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return []
        raise


def remove_tree(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


class StoreLock(object):
    """Exclusive flock on ``<backup_dir>/.lock``; the kernel drops it if we die."""

    def __init__(self, backup_dir, timeout=600):
        self.path = os.path.join(backup_dir, LOCK_NAME)
        self.timeout = timeout
        self.fd = None

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.time() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.time() > deadline:
                    raise BackupError("another backup run holds %s for more than %ss" % (self.path, self.timeout))
                time.sleep(0.2)

    def __exit__(self, *exc):
        os.close(self.fd)
        self.fd = None
        return False


def locked(backup_dir):
    """The store's lock, for a store that must already exist."""
    if not os.path.isdir(backup_dir):
        raise BackupError("backup_dir %s does not exist" % backup_dir)
    return StoreLock(backup_dir)


# ---------------------------------------------------------------- sets

def read_manifest(set_dir):
    """The manifest of a set, or None if it is missing or incomplete."""
    path = os.path.join(set_dir, MANIFEST_NAME)
    try:
        with open(path) as handle:
            manifest = json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or not manifest.get("complete"):
        return None
    if manifest.get("backup_id") != os.path.basename(set_dir.rstrip("/")):
        return None
    if not isinstance(manifest.get("files"), dict):
        return None
    return manifest


def check_format(manifest):
    """``manifest`` unless a newer acgs_backup wrote it (its layout may hold files this one would not restore)."""
    version = manifest.get("format_version", 1)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BackupError("backup set %s is format %s, written by a newer acgs_backup: this one reads formats 1 to %d; "
                          "verify and restore it with the collection that wrote it" % (manifest.get("backup_id"), version, FORMAT_VERSION))
    return manifest


def read_verification(set_dir):
    try:
        with open(os.path.join(set_dir, VERIFICATION_NAME)) as handle:
            data = json.load(handle)
        return data if isinstance(data, dict) else None
    except (IOError, OSError, ValueError):
        return None


def list_sets(backup_dir):
    """Complete sets, newest first: dicts with backup_id, path, manifest, verification."""
    sets = []
    for name in list_dir_safe(backup_dir):
        match = ID_RE.match(name)
        path = os.path.join(backup_dir, name)
        if not match or not os.path.isdir(path):
            continue
        manifest = read_manifest(path)
        if manifest is None:
            continue
        sets.append({
            "backup_id": name,
            "path": path,
            "epoch": int(match.group(1)),
            "created_epoch": float(manifest.get("created_epoch", match.group(1))),
            "manifest": manifest,
            "verification": read_verification(path),
        })
    sets.sort(key=lambda item: (item["created_epoch"], item["epoch"]), reverse=True)
    return sets


def find_leftovers(backup_dir):
    """Partial sets and set directories without a complete manifest."""
    leftovers = []
    for name in list_dir_safe(backup_dir):
        path = os.path.join(backup_dir, name)
        if PARTIAL_RE.match(name):
            leftovers.append(path)
        elif ID_RE.match(name) and os.path.isdir(path) and read_manifest(path) is None:
            leftovers.append(path)
    return leftovers


def new_backup_id(backup_dir, now=None):
    epoch = int(now if now is not None else time.time())
    while True:
        backup_id = "backup-%d" % epoch
        if not os.path.lexists(os.path.join(backup_dir, backup_id)) and \
                not os.path.lexists(os.path.join(backup_dir, "." + backup_id + PARTIAL_SUFFIX)):
            return backup_id
        epoch += 1


def check_backup_id(backup_id):
    """``backup_id`` unless it is malformed (it names a directory: nothing like ``../etc``)."""
    if not ID_RE.match(backup_id):
        raise BackupError("backup_id %r is malformed: expected backup-<epoch>" % backup_id)
    return backup_id


def select_set(backup_dir, backup_id=None):
    sets = list_sets(backup_dir)
    if backup_id in (None, "", "latest"):
        if not sets:
            raise BackupError("backup_dir %s holds no complete backup set" % backup_dir)
        return sets[0]
    check_backup_id(backup_id)
    for item in sets:
        if item["backup_id"] == backup_id:
            return item
    raise BackupError("backup set %s not found in %s (or its manifest is incomplete)" % (backup_id, backup_dir))


def info(backup_dir, backup_id=None):
    """(sets newest first as acgs_backup_info returns them, leftovers) - only ``backup_id`` when given."""
    sets = list_sets(backup_dir)
    if backup_id == "latest":
        sets = sets[:1]
    elif backup_id:
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
    return out, [os.path.basename(p) for p in find_leftovers(backup_dir)]

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: acgs_backup state=absent and retention - which sets go, and the WAL
segments no kept base backup needs any more. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible_collections.acgs.platform.plugins.module_utils import _backup_store as store
from ansible_collections.acgs.platform.plugins.module_utils import _backup_wal as wal
from ansible_collections.acgs.platform.plugins.module_utils._backup_store import BackupError


def wanted(retention):
    """Whether ``retention`` asks for anything."""
    return bool(retention) and bool(retention.get("keep_last") or retention.get("max_age_days") is not None)


def plan_retention(sets, keep_last=None, max_age_days=None, now=None, protect=()):
    """Backup ids to delete. ``sets`` newest first (as list_sets returns them).

    A set is dropped when it is beyond the newest ``keep_last`` or older than
    ``max_age_days``; the newest verified set is never dropped, nor the newest set
    at all when no set is verified, nor the ids in ``protect``.
    """
    if not keep_last and max_age_days is None:
        return []
    now = time.time() if now is None else now
    keep = set(protect)
    verified = [s for s in sets if (s.get("verification") or {}).get("ok")]
    if verified:
        keep.add(verified[0]["backup_id"])
    elif sets:
        keep.add(sets[0]["backup_id"])
    doomed = []
    for index, item in enumerate(sets):
        if item["backup_id"] in keep:
            continue
        too_many = bool(keep_last) and index >= keep_last
        too_old = max_age_days is not None and now - item["created_epoch"] > max_age_days * 86400.0
        if too_many or too_old:
            doomed.append(item["backup_id"])
    return doomed


def apply_retention(result, backup_dir, retention, protect=(), check_mode=False):
    """Removes the sets retention drops, then the WAL segments older than the oldest
    base backup still kept; records both in ``result`` (removed, wal_cleanup, wal_removed)."""
    sets = store.list_sets(backup_dir)
    doomed = plan_retention(sets, retention.get("keep_last"), retention.get("max_age_days"), protect=protect)
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
    result.update(removed=doomed, wal_cleanup=cleanup, wal_removed=sum(len(c["removed"]) for c in cleanup))


def remove_sets(params, check_mode=False):
    """state=absent: remove the set ``backup_id``, or apply ``retention``."""
    started = time.time()
    result = store.empty_result(params)
    backup_dir = params["backup_dir"]
    if not os.path.isdir(backup_dir):
        return result
    retention = params.get("retention") or {}
    backup_id = params.get("backup_id")
    if not backup_id and not wanted(retention):
        raise BackupError("state=absent needs backup_id or retention (keep_last and/or max_age_days)")
    with store.StoreLock(backup_dir):
        leftovers = store.find_leftovers(backup_dir)
        result["leftovers_removed"] = [os.path.basename(p) for p in leftovers]
        if not check_mode:
            for path in leftovers:
                store.remove_tree(path)
        if backup_id:
            path = os.path.join(backup_dir, store.check_backup_id(backup_id))
            if os.path.isdir(path):
                result["removed"] = [backup_id]
                if not check_mode:
                    store.remove_tree(path)
                    store.fsync_dir(backup_dir)
        else:
            apply_retention(result, backup_dir, retention, check_mode=check_mode)
    result["backup_id"] = backup_id
    result["changed"] = bool(result["removed"] or result["leftovers_removed"] or result["wal_removed"])
    result["duration_seconds"] = round(time.time() - started, 3)
    return result

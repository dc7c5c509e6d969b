# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""WAL archive retention and point-in-time recovery targets for acgs_backup.

The archive keeps every segment from the start of the oldest base backup still
kept; older ones go with ``pg_archivecleanup ARCHIVE OLDEST_KEPT_WAL_FILE``.
Nothing is removed when no kept set has a base backup with a known start WAL.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import glob
import os
import re
import time

from ansible_collections.acgs.platform.plugins.module_utils._backup_store import BackupError, list_dir_safe
from ansible_collections.acgs.platform.plugins.module_utils._backup_stream import run_tool, which

WAL_RE = re.compile(r"^[0-9A-F]{24}$")
PARTIAL_WAL_RE = re.compile(r"^[0-9A-F]{24}\.partial$")
HISTORY_RE = re.compile(r"^[0-9A-F]{24}\.[0-9A-F]{8}\.backup$")
START_POINT_RE = re.compile(r"write-ahead log start point: ([0-9A-Fa-f]+)/([0-9A-Fa-f]+) on timeline (\d+)")
HISTORY_START_RE = re.compile(r"^START WAL LOCATION: \S+ \(file ([0-9A-F]{24})\)", re.M)
HISTORY_LABEL_RE = re.compile(r"^LABEL: (.*)$", re.M)
HISTORY_TIME_RE = re.compile(r"^(START|STOP) TIME: (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (UTC|GMT)$", re.M)
TIME_RE = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*"
    r"(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?\s*$", re.I)


def wal_file_name(timeline, lsn, segment_size=16 * 1024 * 1024):
    """WAL file name holding ``lsn`` (``X/Y`` or an int) on ``timeline``."""
    if not isinstance(lsn, int):
        high, low = lsn.split("/")
        lsn = (int(high, 16) << 32) + int(low, 16)
    segno = lsn // segment_size
    per_id = 0x100000000 // segment_size
    return "%08X%08X%08X" % (int(timeline), segno // per_id, segno % per_id)


def start_wal_from_basebackup_log(text, segment_size=16 * 1024 * 1024):
    """The start WAL file from ``pg_basebackup --verbose`` output, or None."""
    match = START_POINT_RE.search(text or "")
    if not match:
        return None
    return wal_file_name(int(match.group(3)), "%s/%s" % (match.group(1), match.group(2)), segment_size)


def parse_backup_history(text):
    """{start_wal, label, start_epoch, stop_epoch} of a ``.backup`` history file (times when in UTC)."""
    out = {"start_wal": None, "label": None, "start_epoch": None, "stop_epoch": None}
    match = HISTORY_START_RE.search(text)
    if match:
        out["start_wal"] = match.group(1)
    match = HISTORY_LABEL_RE.search(text)
    if match:
        out["label"] = match.group(1).strip()
    for which_time, stamp, dummy in HISTORY_TIME_RE.findall(text):
        epoch = calendar.timegm(time.strptime(stamp, "%Y-%m-%d %H:%M:%S"))
        out["start_epoch" if which_time == "START" else "stop_epoch"] = epoch
    return out


def read_histories(archive):
    """Parsed ``.backup`` history files of an archive."""
    out = []
    for name in list_dir_safe(archive):
        if HISTORY_RE.match(name):
            try:
                with open(os.path.join(archive, name)) as handle:
                    out.append(parse_backup_history(handle.read()))
            except (IOError, OSError, UnicodeDecodeError):
                continue
    return out


def basebackup_info(item):
    manifest = item.get("manifest") or {}
    return ((manifest.get("components") or {}).get("postgresql") or {}).get("basebackup")


def start_wal_of(item, histories=()):
    """The base backup's start WAL file: from the manifest, else the archive's history file
    (label acgs_backup, start time within the set's run), else None."""
    info = basebackup_info(item)
    if not info:
        return None
    if info.get("start_wal"):
        return info["start_wal"]
    manifest = item.get("manifest") or {}
    began = float(manifest.get("created_epoch", item.get("created_epoch") or 0))
    ended = began + float(manifest.get("duration_seconds") or 0)
    found = [h["start_wal"] for h in histories if h.get("start_wal") and h.get("label") == "acgs_backup"
             and h.get("start_epoch") is not None and began - 1 <= h["start_epoch"] <= ended + 1]
    return found[0] if len(found) == 1 else None


def plan_wal_cleanup(kept, removed, archive_override=None, histories_of=read_histories):
    """Per WAL archive, the oldest start WAL file among the kept sets' base backups.

    ``kept`` and ``removed`` are set dicts (as list_sets returns them). Archives are
    those named by any of them (or ``archive_override``). An archive gets no entry,
    so nothing is removed from it, when no kept set has a base backup in it, or
    when a kept base backup's start WAL is unknown.
    Returns [{archive, oldest_kept_wal, backup_id}] and the skipped archives with why.
    """
    def archive_of(item):
        info = basebackup_info(item)
        if not info:
            return None
        return archive_override or info.get("wal_archive_dir")

    archives = sorted(set(a for a in (archive_of(i) for i in list(kept) + list(removed)) if a))
    plans = []
    skipped = []
    for archive in archives:
        users = [i for i in kept if archive_of(i) == archive]
        if not users:
            skipped.append({"archive": archive, "reason": "no kept set has a base backup using this archive"})
            continue
        histories = None
        starts = []
        unknown = []
        for item in users:
            start = basebackup_info(item).get("start_wal")
            if not start:
                if histories is None:
                    histories = histories_of(archive)
                start = start_wal_of(item, histories)
            if start:
                starts.append((start[8:], start, item["backup_id"]))
            else:
                unknown.append(item["backup_id"])
        if unknown:
            skipped.append({"archive": archive, "reason": "start WAL unknown for kept set(s) %s" % ", ".join(unknown)})
            continue
        dummy, oldest, backup_id = min(starts)
        plans.append({"archive": archive, "oldest_kept_wal": oldest, "backup_id": backup_id})
    return plans, skipped


def segments_before(names, oldest):
    """What pg_archivecleanup removes: WAL segments (and .partial ones) before ``oldest``,
    compared without the timeline, as pg_archivecleanup does."""
    return sorted(n for n in names if (WAL_RE.match(n) or PARTIAL_WAL_RE.match(n)) and n[8:24] < oldest[8:24])


def find_archivecleanup(server_version=None):
    found = which("pg_archivecleanup")
    if found:
        return found
    major = str(server_version or "").split(".", 1)[0]
    candidates = ["/usr/lib/postgresql/%s/bin/pg_archivecleanup" % major] if major.isdigit() else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_archivecleanup"),
                         key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0, reverse=True)
    candidates += sorted(glob.glob("/usr/pgsql-*/bin/pg_archivecleanup"), reverse=True)
    for path in candidates:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def cleanup_archive(archive, oldest, check_mode=False, server_version=None):
    """Removes the segments before ``oldest`` with pg_archivecleanup; returns their names."""
    if not os.path.isdir(archive):
        return []
    doomed = segments_before(list_dir_safe(archive), oldest)
    if check_mode or not doomed:
        return doomed
    tool = find_archivecleanup(server_version)
    if not tool:
        raise BackupError("pg_archivecleanup is not installed: cannot prune the WAL archive %s" % archive)
    problem = run_tool([tool, archive, oldest])
    if problem:
        raise BackupError("cleaning the WAL archive %s up to %s failed: %s" % (archive, oldest, problem))
    left = set(list_dir_safe(archive))
    return [n for n in doomed if n not in left]


def parse_time(text):
    """Epoch of a recovery target time such as ``2026-11-27 10:00:00+00``; it must carry a zone."""
    match = TIME_RE.match(str(text or ""))
    if not match:
        raise BackupError("restore.pitr.target_time %r is not a time such as '2026-11-27 10:00:00+00'" % text)
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if not zone:
        raise BackupError("restore.pitr.target_time %r has no time zone: add one, for example +00" % text)
    epoch = calendar.timegm((int(year), int(month), int(day), int(hour), int(minute), int(second or 0), 0, 0, 0))
    epoch += float("0." + fraction) if fraction else 0.0
    zone = zone.upper()
    if zone not in ("Z", "UTC", "GMT"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 3600 + (int(digits[2:4]) * 60 if len(digits) > 2 else 0)
        epoch -= sign * offset
    return epoch


def basebackup_end_epoch(item):
    """When the set's base backup was complete (recovery cannot stop before it)."""
    info = basebackup_info(item) or {}
    if info.get("finished_epoch") is not None:
        return float(info["finished_epoch"])
    manifest = item.get("manifest") or {}
    return float(manifest.get("created_epoch", item.get("created_epoch") or 0)) + float(manifest.get("duration_seconds") or 0)


def select_pitr_set(sets, target_time=None, backup_id=None):
    """The set to recover from: ``backup_id`` when given (checked), else the newest set
    with a base backup complete before ``target_time`` (any base backup without one)."""
    with_base = [s for s in sets if basebackup_info(s)]
    target = parse_time(target_time) if target_time else None
    if backup_id not in (None, "", "latest"):
        chosen = [s for s in sets if s["backup_id"] == backup_id]
        if not chosen:
            raise BackupError("backup set %s not found (or its manifest is incomplete)" % backup_id)
        if not basebackup_info(chosen[0]):
            raise BackupError("backup set %s has no base backup: point-in-time recovery needs one "
                              "(postgresql.basebackup=true)" % backup_id)
        if target is not None and target < basebackup_end_epoch(chosen[0]):
            raise BackupError("restore.pitr.target_time %s is before the base backup of %s was complete (%s)" % (
                target_time, backup_id, time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(basebackup_end_epoch(chosen[0])))))
        return chosen[0]
    if not with_base:
        raise BackupError("no backup set has a base backup: point-in-time recovery needs one (postgresql.basebackup=true)")
    if target is None:
        return with_base[0]
    before = [s for s in with_base if basebackup_end_epoch(s) <= target]
    if not before:
        oldest = min(basebackup_end_epoch(s) for s in with_base)
        raise BackupError("restore.pitr.target_time %s is before the oldest base backup (complete at %s): "
                          "no set can recover to it" % (target_time, time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(oldest))))
    return max(before, key=basebackup_end_epoch)

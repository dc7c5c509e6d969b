# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""WAL archive retention (which segments go) and the choice of the set for a
point-in-time recovery, without servers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _backup_store as store
from ansible_collections.acgs.platform.plugins.module_utils import _backup_wal as wal
from ansible_collections.acgs.platform.plugins.module_utils._backup_retention import remove_sets


def _seg(n, tli=1):
    return "%08X%08X%08X" % (tli, 0, n)


def _set(backup_id, created, start_wal=None, archive="/arch", base=True, finished=None):
    components = {}
    if base:
        components["postgresql"] = {"basebackup": {"file": "postgresql/basebackup.tar.gz", "wal_archive_dir": archive,
                                                   "start_wal": start_wal, "finished_epoch": finished}}
    return {"backup_id": backup_id, "created_epoch": created,
            "manifest": {"backup_id": backup_id, "created_epoch": created, "duration_seconds": 2, "components": components}}


def test_wal_file_name_and_basebackup_log():
    assert wal.wal_file_name(1, "0/2000028") == "000000010000000000000002"
    assert wal.wal_file_name(2, "1/FF000000") == "0000000200000001000000FF"
    assert wal.wal_file_name(1, "0/2000028", 1024 * 1024) == "000000010000000000000020"
    log = ("pg_basebackup: initiating base backup, waiting for checkpoint to complete\n"
           "pg_basebackup: checkpoint completed\n"
           "pg_basebackup: write-ahead log start point: 0/5000028 on timeline 3\n")
    assert wal.start_wal_from_basebackup_log(log) == "000000030000000000000005"
    assert wal.start_wal_from_basebackup_log("nothing here") is None


def test_backup_history_file():
    text = ("START WAL LOCATION: 0/7000028 (file 000000010000000000000007)\n"
            "STOP WAL LOCATION: 0/7000100 (file 000000010000000000000007)\n"
            "CHECKPOINT LOCATION: 0/7000060\nBACKUP METHOD: streamed\nBACKUP FROM: primary\n"
            "START TIME: 2026-11-27 10:00:00 UTC\nLABEL: acgs_backup\nSTART TIMELINE: 1\n"
            "STOP TIME: 2026-11-27 10:00:05 UTC\nSTOP TIMELINE: 1\n")
    parsed = wal.parse_backup_history(text)
    assert parsed["start_wal"] == "000000010000000000000007" and parsed["label"] == "acgs_backup"
    assert parsed["stop_epoch"] - parsed["start_epoch"] == 5
    # a set without start_wal in its manifest is matched by label and start time
    item = _set("backup-1", parsed["start_epoch"] - 1, start_wal=None)
    assert wal.start_wal_of(item, [parsed]) == "000000010000000000000007"
    assert wal.start_wal_of(_set("backup-1", parsed["start_epoch"] + 100), [parsed]) is None


def test_plan_takes_the_oldest_kept_base_backup():
    kept = [_set("backup-300", 300, _seg(9)), _set("backup-200", 200, _seg(6)), _set("backup-250", 250, base=False)]
    removed = [_set("backup-100", 100, _seg(3))]
    plans, skipped = wal.plan_wal_cleanup(kept, removed)
    assert plans == [{"archive": "/arch", "oldest_kept_wal": _seg(6), "backup_id": "backup-200"}] and skipped == []


def test_plan_never_removes_when_no_base_backup_is_kept():
    kept = [_set("backup-300", 300, base=False)]
    removed = [_set("backup-100", 100, _seg(3))]
    plans, skipped = wal.plan_wal_cleanup(kept, removed)
    assert plans == [] and skipped[0]["archive"] == "/arch"
    assert wal.plan_wal_cleanup([], []) == ([], [])


def test_plan_skips_an_archive_when_a_kept_start_is_unknown():
    kept = [_set("backup-300", 300, _seg(9)), _set("backup-200", 200, None)]
    plans, skipped = wal.plan_wal_cleanup(kept, [], histories_of=lambda archive: [])
    assert plans == [] and "backup-200" in skipped[0]["reason"]


def test_plan_per_archive():
    kept = [_set("backup-300", 300, _seg(9), archive="/a"), _set("backup-200", 200, _seg(4), archive="/b")]
    plans, dummy = wal.plan_wal_cleanup(kept, [_set("backup-100", 100, _seg(1), archive="/a")])
    assert sorted((p["archive"], p["oldest_kept_wal"]) for p in plans) == [("/a", _seg(9)), ("/b", _seg(4))]


def test_segments_before_follows_pg_archivecleanup():
    names = [_seg(3), _seg(4) + ".partial", _seg(5), _seg(6), _seg(7, tli=2), "00000002.history",
             _seg(5) + ".00000028.backup", _seg(6) + ".part", "README"]
    # timeline ignored, history and backup history files and temporaries left alone
    assert wal.segments_before(names, _seg(6, tli=2)) == [_seg(3), _seg(4) + ".partial", _seg(5)]
    assert wal.segments_before(names, _seg(3)) == []


def _write_set(backup_dir, epoch, start_wal, archive, verified=True):
    set_dir = backup_dir / ("backup-%d" % epoch)
    set_dir.mkdir(parents=True)
    manifest = _set(set_dir.name, epoch, start_wal, archive=archive)["manifest"]
    manifest.update(files={}, complete=True)
    store.write_json_atomic(str(set_dir / "manifest.json"), manifest)
    store.write_json_atomic(str(set_dir / "verification.json"), {"ok": verified})


def _params(backup_dir, **extra):
    return dict(dict(state="absent", backup_dir=str(backup_dir), backup_id=None, retention=None), **extra)


@pytest.mark.skipif(not wal.find_archivecleanup(), reason="pg_archivecleanup is not installed")
def test_retention_prunes_the_archive(tmp_path):
    archive = tmp_path / "wal"
    archive.mkdir()
    for n in range(1, 10):
        (archive / _seg(n)).write_bytes(b"x")
    (archive / (_seg(2) + ".00000028.backup")).write_text("START WAL LOCATION: 0/2000028 (file %s)\n" % _seg(2))
    backup_dir = tmp_path / "store"
    now = int(time.time())
    _write_set(backup_dir, now - 100, _seg(2), str(archive))
    _write_set(backup_dir, now - 50, _seg(6), str(archive))
    check = remove_sets(_params(backup_dir, retention=dict(keep_last=1, max_age_days=None)), check_mode=True)
    assert check["wal_removed"] == 5 and len(os.listdir(str(archive))) == 10
    result = remove_sets(_params(backup_dir, retention=dict(keep_last=1, max_age_days=None)))
    assert result["removed"] == ["backup-%d" % (now - 100)] and result["changed"]
    assert result["wal_removed"] == 5 and result["wal_cleanup"][0]["oldest_kept_wal"] == _seg(6)
    assert sorted(os.listdir(str(archive))) == sorted([_seg(n) for n in range(6, 10)] + [_seg(2) + ".00000028.backup"])
    again = remove_sets(_params(backup_dir, retention=dict(keep_last=1, max_age_days=None)))
    assert again["wal_removed"] == 0 and not again["changed"]


def test_parse_time():
    assert wal.parse_time("2026-11-27 10:00:00+00") == wal.parse_time("2026-11-27T11:00:00+01:00")
    assert wal.parse_time("2026-11-27 10:00:00.5Z") - wal.parse_time("2026-11-27 10:00:00 UTC") == 0.5
    assert wal.parse_time("2026-11-27 10:00-0230") == wal.parse_time("2026-11-27 12:30:00+00")
    with pytest.raises(store.BackupError, match="no time zone"):
        wal.parse_time("2026-11-27 10:00:00")
    with pytest.raises(store.BackupError, match="not a time"):
        wal.parse_time("yesterday")


def test_select_pitr_set():
    t0 = wal.parse_time("2026-11-27 10:00:00+00")
    sets = [_set("backup-3", t0 + 300, finished=t0 + 310), _set("backup-2", t0 + 200, base=False),
            _set("backup-1", t0, finished=t0 + 10)]
    assert wal.select_pitr_set(sets, "2026-11-27 10:04:00+00")["backup_id"] == "backup-1"
    assert wal.select_pitr_set(sets, "2026-11-27 10:06:00+00")["backup_id"] == "backup-3"
    assert wal.select_pitr_set(sets)["backup_id"] == "backup-3"
    assert wal.select_pitr_set(sets, "2026-11-27 10:06:00+00", "backup-1")["backup_id"] == "backup-1"
    with pytest.raises(store.BackupError, match="before the oldest base backup"):
        wal.select_pitr_set(sets, "2026-11-27 10:00:05+00")
    with pytest.raises(store.BackupError, match="before the base backup of backup-3"):
        wal.select_pitr_set(sets, "2026-11-27 10:04:00+00", "backup-3")
    with pytest.raises(store.BackupError, match="has no base backup"):
        wal.select_pitr_set(sets, None, "backup-2")
    with pytest.raises(store.BackupError, match="no backup set has a base backup"):
        wal.select_pitr_set([_set("backup-9", t0, base=False)], "2026-11-27 10:04:00+00")

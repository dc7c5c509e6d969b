# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retention never drops the newest verified set; state=absent in check mode changes nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _backup_retention as retention
from ansible_collections.acgs.platform.plugins.module_utils._backup_store import BackupError, list_sets
from ansible_collections.acgs.platform.tests.unit.plugins.module_utils.test_backup_store import fake_set

DAY = 86400


def params(backup_dir, **extra):
    return dict(dict(state="absent", backup_dir=str(backup_dir), backup_id=None, retention=None), **extra)


def test_keep_last_and_age_never_drop_newest_verified(tmp_path):
    now = time.time()
    fake_set(tmp_path, int(now - 40 * DAY), verified=True)
    fake_set(tmp_path, int(now - 35 * DAY))
    fake_set(tmp_path, int(now - 2 * DAY), verified=False)
    fake_set(tmp_path, int(now - 1 * DAY))
    sets = list_sets(str(tmp_path))
    ids = [s["backup_id"] for s in sets]
    # 30 days: the 35-day set goes, the 40-day set stays (newest verified)
    assert retention.plan_retention(sets, max_age_days=30, now=now) == [ids[2]]
    assert retention.plan_retention(sets, keep_last=1, now=now) == [ids[1], ids[2]]
    assert retention.plan_retention(sets, now=now) == []
    result = retention.remove_sets(params(tmp_path, retention=dict(keep_last=2, max_age_days=None)))
    assert result["removed"] == [ids[2]] and result["changed"] and result["wal_removed"] == 0
    assert [s["backup_id"] for s in list_sets(str(tmp_path))] == [ids[0], ids[1], ids[3]]


def test_without_verified_set_the_newest_stays(tmp_path):
    now = time.time()
    for age in (50, 40):
        fake_set(tmp_path, int(now - age * DAY))
    sets = list_sets(str(tmp_path))
    assert retention.plan_retention(sets, max_age_days=30, now=now) == [sets[1]["backup_id"]]


def test_absent_by_id_and_check_mode(tmp_path):
    fake_set(tmp_path, 100)
    assert retention.remove_sets(params(tmp_path, backup_id="backup-100"), check_mode=True)["removed"] == ["backup-100"]
    assert (tmp_path / "backup-100").exists()
    assert retention.remove_sets(params(tmp_path, backup_id="backup-100"))["changed"]
    assert not retention.remove_sets(params(tmp_path, backup_id="backup-100"))["changed"]
    assert not retention.remove_sets(params(tmp_path / "nowhere", backup_id="backup-100"))["changed"]
    with pytest.raises(BackupError, match="backup_id"):
        retention.remove_sets(params(tmp_path, backup_id="../etc"))
    with pytest.raises(BackupError, match="needs backup_id or retention"):
        retention.remove_sets(params(tmp_path))


def test_wanted():
    assert not retention.wanted(None) and not retention.wanted({"keep_last": None, "max_age_days": None})
    assert retention.wanted({"keep_last": 3}) and retention.wanted({"keep_last": None, "max_age_days": 0})

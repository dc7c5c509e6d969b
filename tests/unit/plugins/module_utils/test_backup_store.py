# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup store without servers: atomic manifests, listing, leftovers, ids."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _backup_store as store


def fake_set(backup_dir, epoch, verified=None):
    set_dir = backup_dir / ("backup-%d" % epoch)
    set_dir.mkdir(parents=True)
    store.write_json_atomic(str(set_dir / "manifest.json"), {
        "backup_id": set_dir.name, "created_epoch": epoch, "files": {}, "components": {}, "complete": True})
    if verified is not None:
        store.write_json_atomic(str(set_dir / "verification.json"), {"ok": verified})


def test_write_json_atomic_leaves_no_temporary(tmp_path):
    path = tmp_path / "m.json"
    store.write_json_atomic(str(path), {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1}
    assert os.listdir(str(tmp_path)) == ["m.json"]


def test_incomplete_sets_are_not_listed(tmp_path):
    partial = tmp_path / ".backup-100.partial"
    (partial / "postgresql").mkdir(parents=True)
    broken = tmp_path / "backup-200"
    broken.mkdir()
    (broken / "manifest.json").write_text('{"backup_id": "backup-200", "files": {}')
    assert store.list_sets(str(tmp_path)) == []
    assert sorted(os.path.basename(p) for p in store.find_leftovers(str(tmp_path))) == [".backup-100.partial", "backup-200"]
    with pytest.raises(store.BackupError, match="holds no complete backup set"):
        store.select_set(str(tmp_path))


def test_listing_newest_first_and_info(tmp_path):
    fake_set(tmp_path, 100, verified=True)
    fake_set(tmp_path, 300)
    fake_set(tmp_path, 200, verified=False)
    assert [s["backup_id"] for s in store.list_sets(str(tmp_path))] == ["backup-300", "backup-200", "backup-100"]
    assert store.select_set(str(tmp_path))["backup_id"] == "backup-300"
    assert store.select_set(str(tmp_path), "backup-100")["verification"] == {"ok": True}
    sets, leftovers = store.info(str(tmp_path))
    assert [(s["backup_id"], s["verified"]) for s in sets] == [("backup-300", None), ("backup-200", False), ("backup-100", True)]
    assert leftovers == []
    assert [s["backup_id"] for s in store.info(str(tmp_path), "latest")[0]] == ["backup-300"]
    assert [s["backup_id"] for s in store.info(str(tmp_path), "backup-200")[0]] == ["backup-200"]


def test_new_backup_id_is_unique(tmp_path):
    (tmp_path / "backup-5").mkdir()
    (tmp_path / ".backup-6.partial").mkdir()
    assert store.new_backup_id(str(tmp_path), now=5) == "backup-7"


def test_backup_ids_are_checked(tmp_path):
    for bad in ("backup-x", "../etc"):
        with pytest.raises(store.BackupError, match="backup_id"):
            store.select_set(str(tmp_path), bad)
    with pytest.raises(store.BackupError, match="not found"):
        store.select_set(str(tmp_path), "backup-1")


def test_lock_needs_the_store(tmp_path):
    with pytest.raises(store.BackupError, match="does not exist"):
        store.locked(str(tmp_path / "nowhere"))
    with store.locked(str(tmp_path)):
        assert (tmp_path / ".lock").exists()


def test_empty_result_has_every_key():
    assert sorted(store.empty_result({"state": "present", "backup_dir": "/b"})) == sorted([
        "changed", "state", "backup_dir", "backup_id", "backup_path", "manifest", "verification", "restored", "removed",
        "leftovers_removed", "wal_removed", "wal_cleanup", "duration_seconds"])

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restoring paths elsewhere: modes kept, non-empty targets and bad sets refused before anything changes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.acgs.platform.plugins.module_utils._backup_create import create_set
from ansible_collections.acgs.platform.plugins.module_utils._backup_restore import restore_set
from ansible_collections.acgs.platform.plugins.module_utils._backup_store import BackupError
from ansible_collections.acgs.platform.tests.unit.plugins.module_utils.test_backup_create import params


@pytest.fixture
def data_tree(tmp_path):
    """A tree with a file of mode 0640, and a set of it in tmp_path/store."""
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    (root / "a.conf").write_text("alpha\n")
    (root / "sub" / "b.bin").write_bytes(os.urandom(200000))
    os.chmod(str(root / "a.conf"), 0o640)
    create_set(params(tmp_path / "store", paths=[str(root)]))
    return root


def test_restore_elsewhere_then_refuse_a_non_empty_target(tmp_path, data_tree):
    root = tmp_path / "restore-root"
    restored = restore_set(params(tmp_path / "store", restore=dict(paths_root=str(root))))
    copy = root / str(data_tree).lstrip("/")
    assert (copy / "sub" / "b.bin").read_bytes() == (data_tree / "sub" / "b.bin").read_bytes()
    assert stat.S_IMODE((copy / "a.conf").stat().st_mode) == 0o640
    assert restored["changed"] and restored["restored"]["paths"][0]["files"] == 2
    with pytest.raises(BackupError, match="non-empty target"):
        restore_set(params(tmp_path / "store", restore=dict(paths_root=str(root))))
    assert restore_set(params(tmp_path / "store", force=True, restore=dict(paths_root=str(root))))["changed"]


def test_check_mode_plans_only(tmp_path, data_tree):
    result = restore_set(params(tmp_path / "store", restore=dict(paths_root=str(tmp_path / "r"))), check_mode=True)
    assert result["changed"] and result["restored"]["plan"]["paths"][0]["target_state"] == "empty"
    assert not (tmp_path / "r").exists()


def test_a_set_failing_verification_is_refused(tmp_path, data_tree):
    name = [n for n in os.listdir(str(tmp_path / "store")) if n.startswith("backup-")][0]
    paths_dir = tmp_path / "store" / name / "paths"
    stored = paths_dir / os.listdir(str(paths_dir))[0]
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0x01
    stored.write_bytes(bytes(data))
    with pytest.raises(BackupError) as err:
        restore_set(params(tmp_path / "store", restore=dict(paths_root=str(tmp_path / "r"))))
    assert "fails verification" in str(err.value) and stored.name in str(err.value)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("restore, fragment", [
    ({"components": ["redis"]}, "has no redis component"),
    ({"components": ["postgresql"]}, "has no postgresql component"),
    ({"components": ["pitr"], "pitr": {"data_directory": "/x"}}, "needs one .postgresql.basebackup=true."),
    ({"paths": ["/nowhere"]}, "not in backup set"),
])
def test_bad_restore_options_are_named(tmp_path, data_tree, restore, fragment):
    with pytest.raises(BackupError, match=fragment):
        restore_set(params(tmp_path / "store", restore=restore))

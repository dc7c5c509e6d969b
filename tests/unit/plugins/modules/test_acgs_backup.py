# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""acgs_backup and acgs_backup_info as Ansible runs them: arguments in, JSON out."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.acgs.platform.plugins.modules import acgs_backup, acgs_backup_info
from ansible_collections.acgs.platform.tests.unit.plugins.test_support.modules import run_module


@pytest.fixture
def tree(tmp_path):
    data = tmp_path / "conf"
    data.mkdir()
    (data / "acgs.yml").write_text("constitutional_hash: cdd01ef066bc6cf2\n")
    return tmp_path


def test_present_info_absent(tree, capsys):
    store = str(tree / "store")
    taken = run_module(acgs_backup, {"backup_dir": store, "paths": [str(tree / "conf")], "compression": "gzip"}, capsys)
    assert taken["changed"] and not taken.get("failed")
    assert taken["backup_id"].startswith("backup-")
    assert taken["backup_path"] == os.path.join(store, taken["backup_id"])
    assert taken["verification"]["ok"]
    listed = run_module(acgs_backup_info, {"backup_dir": store}, capsys)
    assert listed["count"] == 1 and listed["latest"]["backup_id"] == taken["backup_id"]
    assert listed["latest"]["manifest"]["files"] == taken["manifest"]["files"]
    assert not listed["changed"]
    latest = run_module(acgs_backup_info, {"backup_dir": store, "backup_id": "latest"}, capsys)
    assert latest["count"] == 1
    removed = run_module(acgs_backup, {"backup_dir": store, "state": "absent", "backup_id": taken["backup_id"]}, capsys)
    assert removed["changed"] and removed["removed"] == [taken["backup_id"]]
    assert run_module(acgs_backup_info, {"backup_dir": store}, capsys)["count"] == 0


def test_result_shape_is_stable_on_failure(tree, capsys):
    ok = run_module(acgs_backup, {"backup_dir": str(tree / "s"), "paths": [str(tree / "conf")]}, capsys)
    failed = run_module(acgs_backup, {"backup_dir": str(tree / "s"), "state": "verified", "backup_id": "backup-1"}, capsys)
    assert failed["failed"] and "backup-1 not found" in failed["msg"]
    for key in ("backup_id", "backup_path", "manifest", "verification", "restored", "removed", "leftovers_removed"):
        assert key in ok and key in failed


def test_check_mode_writes_nothing(tree, capsys):
    result = run_module(acgs_backup, {"backup_dir": str(tree / "s"), "paths": [str(tree / "conf")]}, capsys, check_mode=True)
    assert result["changed"]
    assert not (tree / "s").exists()


def test_bad_parameter_is_named(tree, capsys):
    result = run_module(acgs_backup, {"backup_dir": str(tree / "s"), "state": "sideways"}, capsys)
    assert result["failed"] and "state" in result["msg"]
    result = run_module(acgs_backup, {"backup_dir": str(tree / "s")}, capsys)
    assert result["failed"] and "component" in result["msg"]


def test_info_of_a_missing_store_warns(tree, capsys):
    result = run_module(acgs_backup_info, {"backup_dir": str(tree / "nowhere")}, capsys)
    assert not result.get("failed") and result["count"] == 0 and result["backups"] == []
    assert "backup_dir %s does not exist: no backup sets to list" % (tree / "nowhere") in json.dumps(result["warnings"])


def test_connection_options_new_and_old_names(tree, capsys):
    for postgresql, redis in (({"login_user": "acgs", "login_password": "pw", "login_db": "postgres"}, {"login_password": "pw"}),
                              ({"user": "acgs", "password": "pw", "maintenance_db": "postgres"}, {"username": "u", "password": "pw"})):
        result = run_module(acgs_backup, {"backup_dir": str(tree / "s"), "postgresql": postgresql, "redis": redis}, capsys,
                            check_mode=True)
        assert result["changed"] and not result.get("failed"), result
        assert result["invocation"]["module_args"]["postgresql"]["login_password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"

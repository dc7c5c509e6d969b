# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat

from ansible_collections.acgs.platform.plugins.module_utils import _backup_job as job

GOOD = {"changed": True, "backup_id": "backup-1", "duration_seconds": 1.5, "manifest": {"total_size": 4096},
        "verification": {"ok": True}}


def test_outcome_only_a_verified_set_is_a_success():
    ok, result, message = job.outcome(0, "warning first\n" + json.dumps(GOOD))
    assert ok and result["backup_id"] == "backup-1" and "4096 bytes" in message
    ok, dummy, message = job.outcome(1, json.dumps({"failed": True, "msg": "acgs_backup: PostgreSQL refused the password"}))
    assert not ok and message == "backup failed: acgs_backup: PostgreSQL refused the password"
    ok, dummy, message = job.outcome(0, json.dumps(dict(GOOD, verification={"ok": False, "summary": "x: sha256 mismatch"})))
    assert not ok and "not verified: x: sha256 mismatch" in message
    ok, dummy, message = job.outcome(1, "Traceback ...\nImportError: no module named psycopg2")
    assert not ok and "printed no result" in message and "psycopg2" in message


def _fake_python(tmp_path, output, code):
    """A stand-in for the host's Python that prints what acgs_backup would."""
    path = tmp_path / "python"
    path.write_text("#!/bin/sh\ncat <<'EOF'\n%s\nEOF\nexit %d\n" % (output, code))
    path.chmod(stat.S_IRWXU)
    return str(path)


def _gauges(path):
    with open(path) as handle:
        return dict((line.split()[0], float(line.split()[1])) for line in handle if not line.startswith("#"))


def test_main_writes_the_gauges_and_keeps_the_last_success_through_a_failure(tmp_path, capsys):
    args = tmp_path / "args.json"
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"backup_dir": "/x"}}))
    metrics = str(tmp_path / "acgs_backup.prom")
    assert job.main([], "/lib.zip", str(args), metrics, python=_fake_python(tmp_path, json.dumps(GOOD), 0)) == 0
    first = _gauges(metrics)
    assert first["acgs_backup_last_run_success"] == 1 and first["acgs_backup_last_size_bytes"] == 4096
    assert first[job.LAST_SUCCESS] == first["acgs_backup_last_run_timestamp_seconds"]
    assert "written and verified" in capsys.readouterr().out

    failed = json.dumps({"failed": True, "msg": "acgs_backup: cannot connect to PostgreSQL"})
    assert job.main([], "/lib.zip", str(args), metrics, python=_fake_python(tmp_path, failed, 1)) == 1
    second = _gauges(metrics)
    assert second["acgs_backup_last_run_success"] == 0 and second["acgs_backup_last_size_bytes"] == 0
    assert second[job.LAST_SUCCESS] == first[job.LAST_SUCCESS]
    assert second["acgs_backup_last_run_timestamp_seconds"] > first["acgs_backup_last_run_timestamp_seconds"]
    assert "cannot connect to PostgreSQL" in capsys.readouterr().err
    assert not [name for name in os.listdir(str(tmp_path)) if name.endswith(".tmp")]


def test_main_names_unreadable_arguments_and_never_had_a_success(tmp_path, capsys):
    metrics = str(tmp_path / "acgs_backup.prom")
    assert job.main(["--args", str(tmp_path / "missing.json")], "/lib.zip", "/unused", metrics,
                    python=_fake_python(tmp_path, json.dumps(GOOD), 0)) == 1
    assert "missing.json are unreadable" in capsys.readouterr().err
    gauges = _gauges(metrics)
    assert gauges["acgs_backup_last_run_success"] == 0 and job.LAST_SUCCESS not in gauges

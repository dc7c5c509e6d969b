# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""acgs_pidfile against real processes: a pid file whose pid now runs another program (pids are reused
after a killed machine) is removed, the daemon's own is kept, and nothing is sent to any process."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess
import sys
import time

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _pidfiles as pidfiles
from ansible_collections.acgs.platform.plugins.modules import acgs_pidfile
from ansible_collections.acgs.platform.tests.unit.plugins.test_support.modules import run_module

SLEEP = shutil.which("sleep")


def started(argv):
    """A child running ``argv``, once it has exec'ed (until then /proc shows the forked pytest)."""
    proc = subprocess.Popen(argv)
    deadline = time.monotonic() + 10
    while (pidfiles.holder(proc.pid) or [[]])[0] != argv and time.monotonic() < deadline:
        time.sleep(0.01)
    return proc


@pytest.fixture
def stranger():
    """A live process that is not the daemon (what a reused pid runs)."""
    proc = started([SLEEP, "300"])
    yield proc
    proc.kill()
    proc.wait()


def test_a_reused_pid_is_stale_and_the_file_removed_without_touching_the_process(tmp_path, stranger, capsys):
    path = tmp_path / "redis-server.pid"
    path.write_text("%d\n" % stranger.pid)
    planned = run_module(acgs_pidfile, {"path": str(path), "executable": sys.executable}, capsys, check_mode=True)
    assert planned["changed"] and planned["state"] == "stale" and path.exists()
    assert planned["holder"] == "%s 300" % SLEEP
    done = run_module(acgs_pidfile, {"path": str(path), "executable": sys.executable}, capsys)
    assert done["changed"] and done["pid"] == stranger.pid and not path.exists()
    assert "pid %d is %s 300" % (stranger.pid, SLEEP) in done["msg"]
    assert stranger.poll() is None  # nothing was sent to it


def test_the_daemons_own_pid_file_is_kept(tmp_path, stranger, capsys):
    path = tmp_path / "sleep.pid"
    path.write_text("%d" % stranger.pid)  # no newline, as dockerd writes it
    kept = run_module(acgs_pidfile, {"path": str(path), "executable": SLEEP}, capsys)
    assert not kept["changed"] and kept["state"] == "daemon" and path.exists()
    # through a symlink to the program, as /usr/bin/redis-server is one to redis-check-rdb
    link = tmp_path / "daemon"
    link.symlink_to(os.path.realpath(SLEEP))
    assert run_module(acgs_pidfile, {"path": str(path), "executable": str(link)}, capsys)["state"] == "daemon"


def test_an_interpreted_daemon_is_known_by_its_program_argument(tmp_path):
    script = tmp_path / "supervisord"
    script.write_text("import time\ntime.sleep(300)\n")
    proc = started([sys.executable, str(script), "-c", "conf"])
    try:
        found = pidfiles.runs(proc.pid, str(script))
        assert found == (True, "%s %s -c conf" % (sys.executable, script))
        assert pidfiles.runs(proc.pid, SLEEP)[0] is False
    finally:
        proc.kill()
        proc.wait()


def test_a_dead_pid_and_a_file_naming_no_pid_are_stale(tmp_path, capsys):
    gone = subprocess.Popen([SLEEP, "0"])
    gone.wait()
    path = tmp_path / "dead.pid"
    path.write_text("%d\n" % gone.pid)
    result = run_module(acgs_pidfile, {"path": str(path), "executable": SLEEP}, capsys)
    assert result["changed"] and result["holder"] == "" and "not running" in result["msg"] and not path.exists()
    path.write_text("garbage\n")
    result = run_module(acgs_pidfile, {"path": str(path), "executable": SLEEP}, capsys)
    assert result["changed"] and result["pid"] is None and "names no pid" in result["msg"] and not path.exists()


def test_a_missing_file_changes_nothing_and_a_missing_program_is_named(tmp_path, capsys):
    result = run_module(acgs_pidfile, {"path": str(tmp_path / "none.pid"), "executable": SLEEP}, capsys)
    assert not result["changed"] and result["state"] == "missing"
    path = tmp_path / "kept.pid"
    path.write_text("1\n")
    failed = run_module(acgs_pidfile, {"path": str(path), "executable": str(tmp_path / "no-such-daemon")}, capsys)
    assert failed["failed"] and "no-such-daemon: no such program" in failed["msg"] and path.exists()

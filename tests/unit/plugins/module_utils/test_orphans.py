# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The programs a killed supervisord left running, found among real processes and stopped: a program's
command line with no supervisord above it is an orphan; the same command under a (stand-in) supervisord
is not, nor is another command."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess
import sys
import time

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _orphans as orphans
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.plugins.module_utils._shutdown import stop_pids

SLEEP = shutil.which("sleep")
# A program that ignores SIGTERM, as a hung one does
DEAF = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\ntime.sleep(300)\n"


def _conf(tmp_path, **commands):
    conf = tmp_path / "conf.d"
    conf.mkdir()
    for name, (command, wait) in commands.items():
        (conf / ("%s.conf" % name)).write_text("[program:%s]\ncommand=%s\n%s" % (
            name, command, "stopwaitsecs=%s\n" % wait if wait is not None else ""))
    (conf / "expanded.conf").write_text("[program:expanded]\ncommand=%s %%(program_name)s\n" % SLEEP)
    return str(conf)


def test_programs_reads_commands_and_stop_waits(tmp_path):
    conf = _conf(tmp_path, nats=("/usr/sbin/nats-server -c '/etc/nats server.conf'", 3), exporter=("/bin/x --a=1", None))
    assert orphans.programs(conf) == {"nats": (["/usr/sbin/nats-server", "-c", "/etc/nats server.conf"], 3.0),
                                      "exporter": (["/bin/x", "--a=1"], 10.0)}
    (tmp_path / "conf.d" / "bad.conf").write_text("not ini\n")
    with pytest.raises(OperatorError, match="bad.conf: not a supervisord program file"):
        orphans.programs(conf)


def test_an_orphan_is_found_and_stopped_and_a_supervised_one_is_not(tmp_path):
    deaf = tmp_path / "deaf.py"
    deaf.write_text(DEAF)
    deaf.chmod(0o755)
    deaf.write_text("#!%s\n%s" % (sys.executable, DEAF))
    # the hung one is a script run by its #! line, as the remediation receiver is: argv is the interpreter's
    conf = _conf(tmp_path, sleeper=("%s 301" % SLEEP, None), hung=("%s" % deaf, 0.3))
    # the stand-in supervisord: a program file of that name that runs the same sleeper as its child
    supervisord = tmp_path / "supervisord"
    supervisord.write_text("import subprocess, sys, time\nsubprocess.Popen([%r, '301'])\ntime.sleep(300)\n" % SLEEP)
    alone = subprocess.Popen([SLEEP, "301"])
    hung = subprocess.Popen([str(deaf)], stdout=subprocess.PIPE)
    other = subprocess.Popen([SLEEP, "302"])
    parent = subprocess.Popen([sys.executable, str(supervisord)])
    child = []
    try:
        assert hung.stdout.readline() == b"ready\n"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # every child has exec'ed (until then /proc shows the forked parent)
            table = orphans.processes()
            child = [pid for pid, (ppid, argv) in table.items() if ppid == parent.pid and argv == [SLEEP, "301"]]
            if child and table.get(alone.pid, (0, []))[1] == [SLEEP, "301"] and table.get(other.pid, (0, []))[1] == [SLEEP, "302"]:
                break
            time.sleep(0.05)
        assert child, "the stand-in supervisord did not start its program"
        found = orphans.find(conf, str(supervisord))
        assert sorted((o["program"], o["pid"]) for o in found) == [("hung", hung.pid), ("sleeper", alone.pid)]
        assert [o["timeout"] for o in found if o["program"] == "hung"] == [0.3]
        stopped = stop_pids(found)
        how = dict((s["program"], s["how"]) for s in stopped)
        assert how == {"sleeper": "terminated", "hung": "killed"}, stopped
        assert alone.wait(timeout=5) is not None and hung.wait(timeout=5) is not None
        assert other.poll() is None and parent.poll() is None and os.path.exists("/proc/%d" % child[0])
        assert orphans.find(conf, str(supervisord)) == []
    finally:
        for proc in (alone, hung, other, parent):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for pid in child:
            try:
                os.kill(pid, 9)
            except OSError:
                pass


def test_a_process_of_another_systemd_unit_is_that_units(tmp_path):
    """Only supervisor.service's cgroup (or none) holds orphans: NATS's own unit runs the same command line."""
    proc = tmp_path / "proc"
    for pid, cgroup in ((10, "0::/system.slice/nats-server.service\n"), (11, "0::/system.slice/supervisor.service\n"),
                        (12, "12:cpu,cpuacct:/docker/abc\n0::/\n")):
        (proc / str(pid)).mkdir(parents=True)
        (proc / str(pid) / "cmdline").write_bytes(b"/usr/sbin/nats-server\0-c\0/etc/nats-server.conf\0")
        (proc / str(pid) / "stat").write_text("%d (nats-server) S 1 %d 0" % (pid, pid))
        (proc / str(pid) / "cgroup").write_text(cgroup)
    conf = _conf(tmp_path, nats=("/usr/sbin/nats-server -c /etc/nats-server.conf", None))
    assert orphans.systemd_unit(10, str(proc)) == "nats-server.service" and orphans.systemd_unit(12, str(proc)) is None
    assert [o["pid"] for o in orphans.find(conf, "/usr/bin/supervisord", str(proc))] == [11, 12]

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""acgs_shutdown's logic on real child processes and sockets: one that exits on SIGTERM, one that
ignores it, one stopped with SIGSTOP; the module itself runs under supervisord in the
shutdown_emergency target."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _shutdown as shutdown
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError

CLEAN = "import signal, sys, time\nsignal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\nprint('ready', flush=True)\ntime.sleep(60)\n"
DEAF = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\ntime.sleep(60)\n"
PLAIN = "import time\nprint('ready', flush=True)\ntime.sleep(60)\n"


def spawn(code):
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert child.stdout.readline().strip() == b"ready"
    return child


def test_parse_stat_reads_past_a_command_with_spaces_and_parentheses():
    text = "42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10"
    assert shutdown.parse_stat(text) == ("S", 987654)


def test_process_state_of_this_process_and_of_none():
    assert shutdown.process_state(os.getpid())[0] in ("R", "S")
    child = spawn(PLAIN)
    child.kill()
    time.sleep(0.2)  # not reaped yet: a zombie counts as gone
    assert shutdown.process_state(child.pid) is None
    child.wait()
    assert shutdown.process_state(child.pid) is None


@pytest.mark.parametrize("timeout, stopwait, expected", [(30, 15, 14.5), (3, 15, 3.0), (30, None, 30.0), (5, 0, 0.0)])
def test_effective_timeout_kills_before_the_process_manager_does(timeout, stopwait, expected):
    assert shutdown.effective_timeout(timeout, stopwait) == expected


def test_classify():
    assert shutdown.classify(True, 0) == "killed"
    assert shutdown.classify(False, 0) == "drained"
    assert shutdown.classify(False, -1) == "terminated"
    assert shutdown.classify(False, 3) == "terminated"


@pytest.mark.parametrize("instances, message", [
    ([], "instances is empty"),
    ([{"port": 1}], "instances[0] needs program"),
    ([{"program": "a"}, {"program": "a"}], "instances[1]: program a is named twice"),
    ([{"program": "a", "port": 70000}], "instances[0].port 70000 is not a port number"),
    ([{"program": "a", "port": "x"}], "instances[0].port 'x' is not a port number"),
])
def test_validate_names_the_bad_entry(instances, message):
    with pytest.raises(OperatorError) as err:
        shutdown.validate(instances)
    assert message in str(err.value)


def test_stop_all_drains_terminates_and_kills_real_processes_at_once():
    children = {"clean": spawn(CLEAN), "deaf": spawn(DEAF), "hung": spawn(CLEAN), "plain": spawn(PLAIN)}
    os.kill(children["hung"].pid, signal.SIGSTOP)
    # SIGSTOP is delivered asynchronously: on a loaded machine /proc said R for a moment (CI, stop 19)
    deadline = time.monotonic() + 5.0
    while (shutdown.process_state(children["hung"].pid) or ("?",))[0] != "T" and time.monotonic() < deadline:
        time.sleep(0.01)
    procs = [{"program": name, "pid": child.pid, "timeout": 1.0} for name, child in sorted(children.items())]
    procs.append({"program": "gone", "pid": 0, "timeout": 1.0})

    def terminate(program):
        os.kill(children[program].pid, signal.SIGTERM)
        return True

    def exitstatus(program, pid):
        code = children[program].wait()
        return code if code >= 0 else -1  # as supervisord reports a death by signal

    started = time.monotonic()
    results, seconds = shutdown.stop_all(procs, terminate, exitstatus)
    wall = time.monotonic() - started
    by = dict((r["program"], r) for r in results)
    assert by["clean"]["how"] == "drained" and by["clean"]["seconds"] < 1.0
    assert by["plain"]["how"] == "terminated" and by["plain"]["exitstatus"] == -1
    assert by["deaf"]["how"] == "killed" and 1.0 <= by["deaf"]["killed_at"] < 1.5
    assert by["hung"]["how"] == "killed" and by["hung"]["state_before"] == "T"
    assert by["gone"]["how"] == "not running" and by["gone"]["seconds"] == 0.0
    # all in parallel: the longest timeout, not the sum
    assert seconds < 2.0 and wall < 2.5


def test_open_ports_names_a_listener_and_not_a_closed_port():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    free = closed.getsockname()[1]
    closed.close()
    try:
        assert shutdown.open_ports([{"host": "127.0.0.1", "port": port}, {"host": "127.0.0.1", "port": free}],
                                   bound=0.2) == ["127.0.0.1:%d" % port]
    finally:
        listener.close()
    assert shutdown.open_ports([{"host": "127.0.0.1", "port": port}], bound=0.2) == []


def test_table():
    lines = shutdown.table([{"service": "gs-service", "slot": "blue", "how": "killed", "seconds": 3.08}])
    assert lines[1].split() == ["gs-service", "blue", "killed", "3.08"]

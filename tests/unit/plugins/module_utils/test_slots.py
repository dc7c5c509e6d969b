# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_slots: files written once and only when they differ, refused configurations left out, and which
running slots a change restarts (supervisord itself is exercised by the deploy and converge tests)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import subprocess
import sys

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _slots as slots
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="writes files owned by root:root")


def params(tmp, config="good config", listen_port=1):
    return {
        "sources": {"0.2.0": {"acgs_service.py": "print('x')\n", "release.json": "{}"}},
        "releases": [{"path": str(tmp / "releases" / "a" / "0.2.0"), "source": "0.2.0"}],
        "slots": [{"program": "acgs-a-blue", "port": listen_port, "running": True, "release": str(tmp / "releases" / "a" / "0.2.0"),
                   "config_path": str(tmp / "a-blue.json"), "config": config, "config_group": "root", "config_mode": "0640",
                   "program_path": str(tmp / "acgs-a-blue.conf"), "program_conf": "[program:acgs-a-blue]\n"}],
        "validate": "%s -c \"import sys; sys.exit(0 if 'good' in open(sys.argv[1]).read() else 2)\" %%s" % sys.executable,
        "remove": [str(tmp / "a.json")],
        "host": "127.0.0.1",
        "timeout": 2.0,
    }


def test_writes_once_then_nothing(tmp_path):
    (tmp_path / "a.json").write_text(u"left by a single-instance install")
    first = slots.install(params(tmp_path), slots.Files(False))
    assert first == {"releases": [str(tmp_path / "releases" / "a" / "0.2.0")], "configs": ["acgs-a-blue"],
                     "programs": ["acgs-a-blue"], "removed": [str(tmp_path / "a.json")]}
    assert (tmp_path / "releases" / "a" / "0.2.0" / "acgs_service.py").read_text() == u"print('x')\n"
    assert oct(os.stat(str(tmp_path / "a-blue.json")).st_mode & 0o777) == oct(0o640)
    files = slots.Files(False)
    assert slots.install(params(tmp_path), files) == {"releases": [], "configs": [], "programs": [], "removed": []}
    assert files.written == []


def test_mode_drift_is_corrected(tmp_path):
    slots.install(params(tmp_path), slots.Files(False))
    os.chmod(str(tmp_path / "a-blue.json"), 0o644)
    assert slots.install(params(tmp_path), slots.Files(False))["configs"] == ["acgs-a-blue"]
    assert oct(os.stat(str(tmp_path / "a-blue.json")).st_mode & 0o777) == oct(0o640)


def test_check_mode_writes_nothing(tmp_path):
    files = slots.Files(True)
    changed = slots.install(params(tmp_path), files)
    assert changed["configs"] == ["acgs-a-blue"] and str(tmp_path / "a-blue.json") in files.written
    assert not (tmp_path / "a-blue.json").exists() and not (tmp_path / "releases").exists()


def test_refused_configuration_keeps_the_old_one(tmp_path):
    slots.install(params(tmp_path), slots.Files(False))
    with pytest.raises(OperatorError, match="configuration refused by its release .*a-blue.json: "):
        slots.install(params(tmp_path, config="bad config"), slots.Files(False))
    assert (tmp_path / "a-blue.json").read_text() == u"good config"
    assert [n for n in os.listdir(str(tmp_path)) if n.startswith(".acgs-")] == []


def test_unknown_source_is_named(tmp_path):
    p = params(tmp_path)
    p["releases"][0]["source"] = "9.9.9"
    with pytest.raises(OperatorError, match="no source '9.9.9'"):
        slots.install(p, slots.Files(False))


class Supervisord(object):
    """Records the calls run() makes; every program stops at once and runs after a start."""

    def __init__(self):
        self.calls = []

    def update(self, stopped, timeout):
        self.calls.append("update")
        return [], ["acgs-b-blue"], []

    def stop(self, name):
        self.calls.append("stop " + name)

    def process_info(self, name):
        # the test's own listener stands for the programs' processes
        return {"statename": "STOPPED", "pid": os.getpid()}

    def start_nowait(self, name):
        self.calls.append("start " + name)
        return name != "acgs-c-blue"


def test_run_restarts_changed_running_slots_only():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    slot = {"port": port, "running": True, "release": None, "config_path": "/etc/acgs/services/a-blue.json"}
    p = {"timeout": 2.0, "host": "127.0.0.1", "slots": [
        dict(slot, program="acgs-a-blue", release="/r/a/0.2.0"),  # its release changed: restarted
        dict(slot, program="acgs-b-blue"),                        # its program changed: update reloaded it
        dict(slot, program="acgs-c-blue"),                        # unchanged and running: left alone
        dict(slot, program="acgs-d-blue", running=False)]}        # should not run: not started
    rpc = Supervisord()
    try:
        out = slots.run(p, rpc, {"releases": ["/r/a/0.2.0"], "configs": ["acgs-b-blue"], "programs": ["acgs-b-blue"], "removed": []})
    finally:
        listener.close()
    assert out["restarted"] == ["acgs-a-blue"]
    assert out["started"] == ["acgs-b-blue"]
    assert rpc.calls == ["update", "stop acgs-a-blue", "start acgs-a-blue", "start acgs-b-blue", "start acgs-c-blue"]


def test_run_names_a_slot_that_does_not_listen():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    slot = {"program": "acgs-a-blue", "port": port, "running": True, "release": None, "config_path": "/etc/acgs/services/a-blue.json"}
    p = {"timeout": 0.3, "host": "127.0.0.1", "slots": [slot]}
    with pytest.raises(OperatorError, match="acgs-a-blue on 127.0.0.1:%d" % port):
        slots.run(p, Supervisord(), {"releases": [], "configs": [], "programs": [], "removed": []})


LISTENER = """
import signal, socket, sys
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen(8)
signal.signal(signal.SIGTERM, signal.SIG_DFL if sys.argv[1] == "dies" else signal.SIG_IGN)
print(sock.getsockname()[1], flush=True)
sys.stdin.read()
"""


def holder(*argv):
    """A process that listens on a free port (its number on the first line) until its stdin closes:
    ``dies`` at SIGTERM or ``deaf`` to it; the rest of argv stands for its command line's options."""
    proc = subprocess.Popen([sys.executable, "-c", LISTENER] + list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline())


def test_listeners_name_the_processes_holding_a_port():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    try:
        found = slots.listeners({port, 1})
    finally:
        listener.close()
    assert found[1] == []
    assert [(pid, ppid) for pid, ppid, _cmd in found[port]] == [(os.getpid(), os.getppid())]


class Orphaned(Supervisord):
    """A supervisord that runs none of the programs (one started anew after its predecessor was killed)."""

    def process_info(self, name):
        return {"statename": "BACKOFF", "pid": 0}


@pytest.mark.parametrize("signal_reply,how", [("dies", "terminated"), ("deaf", "killed")])
def test_an_orphan_of_a_slot_is_stopped_and_its_port_freed(signal_reply, how):
    config = "/etc/acgs/services/a-blue.json"
    proc, port = holder(signal_reply, "--config", config)
    try:
        slot = {"program": "acgs-a-blue", "port": port, "running": True, "config_path": config}
        stopped = slots.stop_orphans(Orphaned(), [slot], 0.5)
        assert [(o["program"], o["pid"], o["port"], o["how"]) for o in stopped] == [("acgs-a-blue", proc.pid, port, how)]
        assert config in stopped[0]["command"]
        assert proc.wait(5) != 0
        assert slots.listeners({port})[port] == []
    finally:
        proc.kill()
        proc.wait()


def test_two_orphans_of_one_slot_are_both_stopped():
    """A slot may have left more than one process on its port (a forking program's workers, or two killed
    supervisords' programs): each is stopped, not only the last found."""
    config = "/etc/acgs/services/a-blue.json"
    first, port = holder("dies", "--config", config)
    # both on the port the first had (SO_REUSEPORT lets two sockets listen on it)
    script = LISTENER.replace('sock.bind(("127.0.0.1", 0))',
                              'sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1); sock.bind(("127.0.0.1", int(sys.argv[2])))')
    first.kill()
    first.wait()
    procs = [subprocess.Popen([sys.executable, "-c", script, "dies", str(port), "--config", config], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for _count in range(2)]
    try:
        assert [int(proc.stdout.readline()) for proc in procs] == [port, port]
        slot = {"program": "acgs-a-blue", "port": port, "running": True, "config_path": config}
        stopped = slots.stop_orphans(Orphaned(), [slot], 0.5)
        assert sorted((o["program"], o["pid"]) for o in stopped) == sorted(("acgs-a-blue", proc.pid) for proc in procs)
        assert all(proc.wait(5) != 0 for proc in procs)
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def test_a_port_held_by_another_process_fails_naming_it_and_stops_nothing():
    orphan, orphan_port = holder("dies", "--config", "/etc/acgs/services/a-blue.json")
    stranger, port = holder("dies", "--config", "/etc/other/b.json")
    try:
        slot = {"running": True, "release": None}
        with pytest.raises(OperatorError, match=r"(?s)%d of acgs-b-blue: pid %d \(.*/etc/other/b.json\)" % (port, stranger.pid)):
            slots.stop_orphans(Orphaned(), [dict(slot, program="acgs-a-blue", port=orphan_port, config_path="/etc/acgs/services/a-blue.json"),
                                            dict(slot, program="acgs-b-blue", port=port, config_path="/etc/acgs/services/b-blue.json")], 0.5)
        assert orphan.poll() is None and stranger.poll() is None
    finally:
        for proc in (orphan, stranger):
            proc.kill()
            proc.wait()

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: systemd units for acgs_shutdown's stop loop (_shutdown.stop_all), the services' systemd runtime.

What a supervisord program is to the supervisor runtime, a slot's unit is here: its main process
(``MainPID``) is polled by the same loop and SIGKILLed at its timeout. The stop goes through
``systemctl stop --no-block``: systemd sends the unit's KillSignal (SIGTERM) at once and, the stop
being asked for, ``Restart=on-failure`` does not start it again; the exit status is systemd's
(``ExecMainCode``/``ExecMainStatus``). The systemctl CLI is the client. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess
import time

from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError

EXIT_WAIT = 5.0
# ExecMainCode: how the main process ended (waitid's CLD_* codes)
CLD_EXITED = 1
RUNNING = ("active", "activating", "reloading", "deactivating")


def unit_name(program):
    """A slot's program name (acgs-<service>-<slot>) as its unit's name."""
    return program if program.endswith(".service") else program + ".service"


def parse_show(text):
    """``systemctl show -p A,B unit``'s lines KEY=VALUE as a dict."""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def exit_status(props):
    """The main process's exit status as a shell reports it: its status when it exited, 128 + the
    signal when a signal ended it (137 after SIGKILL); None before it ran."""
    code, status = props.get("ExecMainCode", "0"), props.get("ExecMainStatus", "0")
    if code in ("", "0"):
        return None
    return int(status) if int(code) == CLD_EXITED else 128 + int(status)


class Units(object):
    """The units of this host's systemd, through systemctl."""

    def __init__(self, systemctl="systemctl", run=subprocess.run):
        self.systemctl = systemctl
        self._run = run

    def _call(self, argv):
        try:
            return self._run([self.systemctl] + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True, check=False)
        except OSError as err:
            raise OperatorError("cannot run %s: %s" % (self.systemctl, err))

    def show(self, program, *names):
        """The unit's properties ``names``; OperatorError when systemd has no such unit."""
        unit = unit_name(program)
        done = self._call(["show", unit, "-p", ",".join(("LoadState",) + names)])
        if done.returncode != 0:
            raise OperatorError("systemctl show %s: %s" % (unit, done.stderr.strip()))
        props = parse_show(done.stdout)
        if props.get("LoadState") == "not-found":
            raise OperatorError("no unit named %s" % unit)
        return props

    def process_info(self, program):
        """(state, main PID): ActiveState, and the PID while the unit runs (else 0)."""
        props = self.show(program, "ActiveState", "MainPID")
        pid = int(props.get("MainPID") or 0)
        return props.get("ActiveState", ""), pid if props.get("ActiveState") in RUNNING else 0

    def stop(self, program):
        """Ask systemd to stop the unit and return at once (its KillSignal now, no restart)."""
        done = self._call(["stop", "--no-block", unit_name(program)])
        if done.returncode != 0:
            raise OperatorError("systemctl stop %s: %s" % (unit_name(program), done.stderr.strip()))
        return True

    def exitstatus(self, program, pid=None, clock=time.monotonic, sleep=time.sleep):
        """The main process's exit status once systemd says the unit stopped; None if not within EXIT_WAIT."""
        deadline = clock() + EXIT_WAIT
        while True:
            props = self.show(program, "ActiveState", "ExecMainCode", "ExecMainStatus")
            if props.get("ActiveState") not in RUNNING:
                return exit_status(props)
            if clock() >= deadline:
                return None
            sleep(0.05)

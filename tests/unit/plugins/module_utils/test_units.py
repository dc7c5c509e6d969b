# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_units' reading of systemctl's answers (pure logic; the module runs against a real systemd in the
multihost scenario's verifier, test_acgs_shutdown_stops_units_on_the_systemd_host)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _units
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError


class Systemctl(object):
    """systemctl's answers, in turn; records the calls."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def __call__(self, argv, **_kwargs):
        self.calls.append(argv)
        stdout, returncode = self.answers.pop(0)
        return subprocess.CompletedProcess(argv, returncode, stdout, "boom" if returncode else "")


def test_unit_names_and_exit_statuses():
    assert _units.unit_name("acgs-gs-service-blue") == "acgs-gs-service-blue.service"
    assert _units.unit_name("nats-server.service") == "nats-server.service"
    assert _units.exit_status({"ExecMainCode": "1", "ExecMainStatus": "0"}) == 0
    assert _units.exit_status({"ExecMainCode": "1", "ExecMainStatus": "3"}) == 3
    assert _units.exit_status({"ExecMainCode": "2", "ExecMainStatus": "9"}) == 137
    assert _units.exit_status({"ExecMainCode": "0", "ExecMainStatus": "0"}) is None


def test_process_info_stop_and_exit_status():
    run = Systemctl(("LoadState=loaded\nActiveState=active\nMainPID=4242\n", 0),
                    ("", 0),
                    ("LoadState=loaded\nActiveState=deactivating\nExecMainCode=0\nExecMainStatus=0\n", 0),
                    ("LoadState=loaded\nActiveState=inactive\nExecMainCode=1\nExecMainStatus=0\n", 0))
    units = _units.Units(run=run)
    assert units.process_info("acgs-gs-service-blue") == ("active", 4242)
    assert units.stop("acgs-gs-service-blue") is True
    assert units.exitstatus("acgs-gs-service-blue", sleep=lambda _s: None) == 0
    assert run.calls[1] == ["systemctl", "stop", "--no-block", "acgs-gs-service-blue.service"]
    assert run.calls[0][:3] == ["systemctl", "show", "acgs-gs-service-blue.service"]


def test_a_stopped_unit_has_no_pid_and_a_missing_one_is_named():
    units = _units.Units(run=Systemctl(("LoadState=loaded\nActiveState=inactive\nMainPID=0\n", 0),
                                       ("LoadState=not-found\nActiveState=inactive\nMainPID=0\n", 0),
                                       ("", 1)))
    assert units.process_info("acgs-gs-service-green") == ("inactive", 0)
    with pytest.raises(OperatorError, match="no unit named acgs-nope.service"):
        units.process_info("acgs-nope")
    with pytest.raises(OperatorError, match="systemctl stop acgs-gs-service-blue.service: boom"):
        units.stop("acgs-gs-service-blue")

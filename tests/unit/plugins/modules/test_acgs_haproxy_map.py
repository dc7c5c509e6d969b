# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""acgs_haproxy_map's file handling and the runtime API's map answers (pure); the module itself
runs against the live HAProxy in the maintenance target."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _haproxy_runtime as rt
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.plugins.modules import acgs_haproxy_map as mod


def test_parse_map_reads_show_map():
    answer = "0x55d1c0a0 fe_gs-service maintenance\n0x55d1c0b0 fe_ec-service shutdown\n\n"
    assert rt.parse_map(answer) == {"fe_gs-service": "maintenance", "fe_ec-service": "shutdown"}
    assert rt.parse_map("") == {}


def test_parse_map_refuses_what_is_not_a_map():
    with pytest.raises(OperatorError, match="unexpected answer"):
        rt.parse_map("Unknown map identifier.\n")


def test_wanted_lines_sets_keeps_and_removes():
    lines = ["# kept comment", "fe_a maintenance", "fe_b shutdown"]
    assert mod.wanted_lines(lines, {"fe_a": "shutdown", "fe_c": "maintenance"}, True) == [
        "# kept comment", "fe_a shutdown", "fe_b shutdown", "fe_c maintenance"]
    assert mod.wanted_lines(lines, {"fe_a": "", "fe_x": ""}, False) == ["# kept comment", "fe_b shutdown"]
    assert mod.wanted_lines(lines, {"fe_b": "shutdown"}, True) == lines


def test_read_and_write_file(tmp_path):
    path = str(tmp_path / "m.map")
    assert mod.read_file(path) == ([], {})
    mod.write_file(path, ["fe_a maintenance"])
    assert mod.read_file(path) == (["fe_a maintenance"], {"fe_a": "maintenance"})
    assert oct((tmp_path / "m.map").stat().st_mode & 0o777) == "0o644"

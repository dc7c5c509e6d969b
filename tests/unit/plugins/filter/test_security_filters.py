# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The acgs.platform.security_findings and security_report filters: _security's results, bad input as a filter error."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import inspect

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.filter import security_findings as findings_filter
from ansible_collections.acgs.platform.plugins.filter import security_report as report_filter
from ansible_collections.acgs.platform.plugins.module_utils import _security


def test_every_check_takes_the_options_the_filter_documents():
    doc = yaml.safe_load(findings_filter.DOCUMENTATION)["options"]
    assert sorted(doc["check"]["choices"]) == sorted(_security.CHECKS)
    for check, function in _security.CHECKS.items():
        params = list(inspect.signature(function).parameters)[1:]
        assert set(params) <= set(doc), "%s takes %s, undocumented" % (check, set(params) - set(doc))


def test_findings_filter_dispatches_and_names_bad_input():
    assert findings_filter.FilterModule().filters()["security_findings"] is findings_filter.security_findings
    found = findings_filter.security_findings({"exists": True, "mode": "0666"}, "admin_socket", path="/run/haproxy/admin.sock")
    assert [f["id"] for f in found] == ["haproxy-socket-world-writable"]
    with pytest.raises(AnsibleFilterError, match="acgs.platform.security_findings: unknown check 'ports'"):
        findings_filter.security_findings({}, "ports")
    with pytest.raises(AnsibleFilterError, match="check admin_socket: missing a required argument: 'path'"):
        findings_filter.security_findings({}, "admin_socket")


def test_report_filter_and_bad_severity():
    assert report_filter.FilterModule().filters()["security_report"] is report_filter.security_report
    out = report_filter.security_report({"redis": []}, "localhost", "high", "2026-11-27T12:00:00Z", ["lynis"])
    assert out["report"] == {"generated_at": "2026-11-27T12:00:00Z", "host": "localhost", "findings": [],
                             "summary": {"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0}, "passed": True}
    with pytest.raises(AnsibleFilterError, match="acgs.platform.security_report: fail_on 'warning'"):
        report_filter.security_report({}, "localhost", "warning", "t")

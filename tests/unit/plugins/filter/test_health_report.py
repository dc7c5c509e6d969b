# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The acgs.platform.health_report filter: the report of _health_report, bad input as a filter error."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.filter import health_report as health_report_filter
from ansible_collections.acgs.platform.tests.unit.plugins.module_utils.test_health_report import hashes, health


def test_filter_reports_and_names_bad_input():
    assert health_report_filter.FilterModule().filters()["health_report"] is health_report_filter.health_report
    assert health_report_filter.health_report(health(), hashes())["status"] == "healthy"
    with pytest.raises(AnsibleFilterError, match="health result lacks services"):
        health_report_filter.health_report({"status": "healthy", "dependencies": [], "summary": {}, "reasons": [],
                                            "elapsed_ms": 1}, hashes())
    with pytest.raises(AnsibleFilterError, match="hash result must be a dictionary"):
        health_report_filter.health_report(health(), "compliant")

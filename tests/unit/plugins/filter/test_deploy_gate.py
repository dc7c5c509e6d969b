# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The acgs.platform.deploy_gate filter: the verdicts of the security-scan and performance gates."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.filter.deploy_gate import deploy_gate

NOW = 1000000.0


def b64(doc):
    return base64.b64encode(json.dumps(doc).encode()).decode()


def files(*mtimes):
    return [{"path": "/r/%d.json" % m, "mtime": m} for m in mtimes]


def test_no_report_warns_or_fails_when_strict():
    assert deploy_gate([], None, "security_scan", 60, NOW)["result"] == "no report"
    assert deploy_gate([], None, "performance", 60, NOW, True)["result"] == "failed"


def test_security_scan():
    clean = b64({"findings": [{"severity": "low", "id": "L1"}]})
    assert deploy_gate(files(NOW - 10), clean, "security_scan", 60, NOW)["result"] == "passed"
    high = deploy_gate(files(NOW - 10), b64({"findings": [{"severity": "HIGH", "id": "CVE-1"}]}), "security_scan", 60, NOW)
    assert high["result"] == "failed" and "CVE-1" in high["detail"]
    assert deploy_gate(files(NOW - 10), b64({"summary": {"critical": 2}}), "security_scan", 60, NOW)["result"] == "failed"
    old = deploy_gate(files(NOW - 120), clean, "security_scan", 60, NOW)
    assert old["result"] == "failed" and "old" in old["detail"]


def test_performance_and_newest_report():
    passed, failed = b64({"passed": True}), b64({"passed": False, "failed": ["p95"]})
    assert deploy_gate(files(NOW - 5), passed, "performance", 60, NOW)["result"] == "passed"
    verdict = deploy_gate(files(NOW - 500, NOW - 5), failed, "performance", 60, NOW)
    assert verdict["result"] == "failed" and "/r/999995.json" in verdict["detail"] and "p95" in verdict["detail"]
    assert deploy_gate(files(NOW - 5), b64(["not", "an", "object"]), "performance", 60, NOW)["result"] == "failed"
    assert deploy_gate(files(NOW - 5), "not base64 json", "performance", 60, NOW)["result"] == "failed"


def test_unknown_gate():
    with pytest.raises(AnsibleFilterError, match="unknown gate"):
        deploy_gate([], None, "tests", 60, NOW)

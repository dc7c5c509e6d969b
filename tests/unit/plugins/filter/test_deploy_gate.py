# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The acgs.platform.deploy_gate filter: the verdicts of the security-scan and performance gates, on one host
(judge) and across the hosts that write the reports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.filter.deploy_gate import deploy_gate, judge

NOW = 1000000.0


def b64(doc):
    return base64.b64encode(json.dumps(doc).encode()).decode()


def files(*mtimes):
    return [{"path": "/r/%d.json" % m, "mtime": m} for m in mtimes]


def test_no_report_warns_or_fails_when_strict():
    assert judge([], None, "security_scan", 60, NOW)["result"] == "no report"
    assert judge([], None, "performance", 60, NOW, True)["result"] == "failed"


def test_security_scan():
    clean = b64({"findings": [{"severity": "low", "id": "L1"}]})
    assert judge(files(NOW - 10), clean, "security_scan", 60, NOW)["result"] == "passed"
    high = judge(files(NOW - 10), b64({"findings": [{"severity": "HIGH", "id": "CVE-1"}]}), "security_scan", 60, NOW)
    assert high["result"] == "failed" and "CVE-1" in high["detail"]
    assert judge(files(NOW - 10), b64({"summary": {"critical": 2}}), "security_scan", 60, NOW)["result"] == "failed"
    old = judge(files(NOW - 120), clean, "security_scan", 60, NOW)
    assert old["result"] == "failed" and "old" in old["detail"]


def test_performance_and_newest_report():
    passed, failed = b64({"passed": True}), b64({"passed": False, "failed": ["p95"]})
    assert judge(files(NOW - 5), passed, "performance", 60, NOW)["result"] == "passed"
    verdict = judge(files(NOW - 500, NOW - 5), failed, "performance", 60, NOW)
    assert verdict["result"] == "failed" and "/r/999995.json" in verdict["detail"] and "p95" in verdict["detail"]
    assert judge(files(NOW - 5), b64(["not", "an", "object"]), "performance", 60, NOW)["result"] == "failed"
    assert judge(files(NOW - 5), "not base64 json", "performance", 60, NOW)["result"] == "failed"


def test_unknown_gate():
    with pytest.raises(AnsibleFilterError, match="unknown gate"):
        deploy_gate([], "tests", "tests", 60, NOW)


def slurped(kind, host, mtimes, content):
    """One host's item of gates.yml's slurp loop (a skipped one when the host has no report)."""
    found = {"item": [kind, host], "files": files(*mtimes)}
    return {"item": found, "content": content} if mtimes else {"item": found, "skipped": True}


def test_across_hosts_one_failing_host_fails_the_gate_and_is_named():
    clean, high = b64({"findings": []}), b64({"findings": [{"severity": "critical", "id": "SEC-9"}]})
    results = [slurped("security", "app1", [NOW - 5], clean), slurped("security", "app2", [NOW - 5], high),
               slurped("performance", "lb", [NOW - 5], b64({"passed": False}))]
    verdict = deploy_gate(results, "security", "security_scan", 60, NOW)
    assert verdict["result"] == "failed" and verdict["detail"].startswith("app2: ") and "SEC-9" in verdict["detail"]
    assert "app1" not in verdict["detail"]
    # the performance item is not the security gate's
    assert deploy_gate(results[:1], "security", "security_scan", 60, NOW)["result"] == "passed"
    assert deploy_gate(results, "performance", "performance", 60, NOW)["detail"].startswith("lb: ")


def test_across_hosts_a_host_without_a_report():
    results = [slurped("security", "app1", [NOW - 5], b64({"findings": []})), slurped("security", "db", [], None)]
    verdict = deploy_gate(results, "security", "security_scan", 60, NOW)
    assert verdict["result"] == "no report" and "app1: " in verdict["detail"] and "db: no security scan report" in verdict["detail"]
    assert deploy_gate(results, "security", "security_scan", 60, NOW, True)["result"] == "failed"
    both = [slurped("security", "app1", [NOW - 5], b64({"findings": []})), slurped("security", "app2", [NOW - 9], b64({}))]
    passed = deploy_gate(both, "security", "security_scan", 60, NOW)
    assert passed["result"] == "passed" and "app1: " in passed["detail"] and "app2: " in passed["detail"]
    assert deploy_gate([], "security", "security_scan", 60, NOW)["result"] == "no report"

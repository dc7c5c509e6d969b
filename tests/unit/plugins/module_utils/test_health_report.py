# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform summary: the status rule of the health check playbook, rows naming what was probed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _health_report

HASH = "0123456789abcdef"
OTHER = "fedcba9876543210"


def health(status="healthy", reasons=()):
    return {
        "status": status, "elapsed_ms": 21, "reasons": list(reasons),
        "summary": {"services": {"healthy": 1, "total": 2}, "dependencies": {"healthy": 2, "total": 3}},
        "services": [
            {"name": "auth-service", "criticality": "critical", "status": "healthy", "http_status": 200, "latency_ms": 9,
             "version": "0.1.0", "url": "http://127.0.0.1:8000/health"},
            {"name": "fv-service", "criticality": "medium", "status": "unhealthy", "http_status": None, "latency_ms": None,
             "version": None, "url": "http://127.0.0.1:8003/health", "error": "connection refused"}],
        "dependencies": [
            {"name": "postgresql", "type": "postgresql", "status": "healthy", "latency_ms": 8, "host": "127.0.0.1", "port": 5432,
             "url": None, "error": None,
             "details": {"pool_usage_percent": 6.0, "connections": 6, "max_connections": 100, "server_version": "15"}},
            {"name": "redis", "type": "redis", "status": "healthy", "latency_ms": 2, "host": "127.0.0.1", "port": 6379, "url": None,
             "error": None, "details": {"redis_version": "7.0.15", "hit_rate_percent": None}},
            {"name": "opa", "type": "http", "status": "unhealthy", "latency_ms": 1, "host": None, "port": None,
             "url": "http://127.0.0.1:8181/health", "error": "connection refused", "details": {"http_status": None}}],
    }


def hashes(mismatch=False, missing=False):
    services = [{"name": "auth-service", "url": "http://127.0.0.1:8000", "hash": OTHER if mismatch else HASH,
                 "source_url": "http://127.0.0.1:8000/api/v1/compliance/status", "compliant": not mismatch,
                 "error": "hash %s from compliance_endpoint does not match the expected %s" % (OTHER, HASH) if mismatch else None},
                {"name": "fv-service", "url": "http://127.0.0.1:8003", "hash": None if missing else HASH, "source_url": None,
                 "compliant": not missing, "error": "no constitutional hash found (connection refused)" if missing else None}]
    return {"compliant": not (mismatch or missing), "compliance_percent": 50.0 if mismatch or missing else 100.0,
            "services": services, "files": [],
            "mismatches": [{"name": "auth-service", "found": OTHER, "expected": HASH}] if mismatch else []}


@pytest.mark.parametrize("status, mismatch, missing, expected", [
    ("healthy", False, False, "healthy"),
    ("degraded", False, False, "degraded"),
    ("healthy", False, True, "degraded"),
    ("critical", False, False, "critical"),
    ("healthy", True, False, "critical"),
    ("degraded", True, True, "critical"),
])
def test_status_rule(status, mismatch, missing, expected):
    assert _health_report.platform_status(health(status), hashes(mismatch, missing)) == expected
    assert _health_report.report(health(status), hashes(mismatch, missing))["status"] == expected


def test_health_alone():
    assert _health_report.platform_status(health("degraded")) == "degraded"
    lines = _health_report.report(health())["lines"]
    assert lines[0] == "ACGS platform: HEALTHY   services 1/2 healthy, dependencies 2/3 healthy (21 ms)"
    assert lines[1].split() == ["SERVICE", "CRIT", "STATUS", "HTTP", "LATENCY", "VERSION", "URL"]


def test_rows_name_what_was_probed():
    result = _health_report.report(health("degraded", ["medium service fv-service is down: connection refused "
                                                       "(http://127.0.0.1:8003/health)"]), hashes(missing=True))
    lines = result["lines"]
    assert lines[0] == ("ACGS platform: DEGRADED   services 1/2 healthy, dependencies 2/3 healthy, "
                        "constitutional compliance 50.0% (21 ms)")
    assert lines[1].split() == ["SERVICE", "CRIT", "STATUS", "HTTP", "LATENCY", "VERSION", "HASH", "URL"]
    assert lines[2].split() == ["auth-service", "critical", "healthy", "200", "9", "ms", "0.1.0", HASH, "http://127.0.0.1:8000/health"]
    assert lines[3].split() == ["fv-service", "medium", "unhealthy", "-", "-", "-", "-", "http://127.0.0.1:8003/health"]
    assert lines[4].split() == ["DEPENDENCY", "TYPE", "STATUS", "LATENCY", "ADDRESS", "DETAILS"]
    assert lines[5].endswith("127.0.0.1:5432         pool 6.0% (6/100 connections)")
    assert lines[6].endswith("127.0.0.1:6379         version 7.0.15, hit rate n/a")
    assert lines[7].endswith("http://127.0.0.1:8181/health connection refused")
    assert result["reasons"] == [
        "medium service fv-service is down: connection refused (http://127.0.0.1:8003/health)",
        "constitutional hash of fv-service at http://127.0.0.1:8003: no constitutional hash found (connection refused)"]
    assert lines[8:] == ["! " + reason for reason in result["reasons"]]


def test_mismatch_reason_names_the_url_it_came_from():
    reasons = _health_report.report(health(), hashes(mismatch=True))["reasons"]
    assert reasons == ["constitutional hash of auth-service at http://127.0.0.1:8000/api/v1/compliance/status: hash %s "
                       "from compliance_endpoint does not match the expected %s" % (OTHER, HASH)]

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decision logic of acgs_health, without a network."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _health, _probe_args
from ansible_collections.acgs.platform.plugins.module_utils._http import HttpResult
from ansible_collections.acgs.platform.plugins.module_utils._probe_args import ProbeError
from ansible_collections.acgs.platform.plugins.module_utils.catalog import SERVICES, TLS_PORT_OFFSET


def common(**kwargs):
    params = dict((key, spec.get("default")) for key, spec in _probe_args.probe_common_argument_spec().items())
    params.update(timeout=1.0, retry_delay=0.0, use_proxy=False, max_workers=10, latency_threshold_ms=1000,
                  fail_on="critical", services=None, dependencies=[])
    params.update(kwargs)
    return params


def svc_result(name, criticality, status, deps=()):
    return {"name": name, "url": "http://h:1/health", "criticality": criticality, "status": status,
            "error": "x" if status != "healthy" else None, "dependencies": list(deps), "impaired_by": []}


def dep_result(name, status, required=True):
    return {"name": name, "type": "tcp", "host": "h", "port": 2, "url": None, "status": status, "required": required,
            "error": "down" if status != "healthy" else None, "needed_by": []}


def response(status=200, body=b"", headers=None, error=None, kind=None, latency=5):
    res = HttpResult("http://127.0.0.1:1/x")
    res.status, res.body, res.headers, res.error, res.error_kind, res.latency_ms = (
        status, body if isinstance(body, bytes) else json.dumps(body).encode(), dict(
            (k.lower(), v) for k, v in (headers or {}).items()), error, kind, latency)
    return res


# --- service evaluation ----------------------------------------------------------------------

def normalised(**spec):
    base = {"name": "svc", "url": "http://127.0.0.1:1"}
    base.update(spec)
    return _health.normalise_services([base], common())[0]


def evaluate(svc, resp):
    return _health.evaluate_response(svc, resp, _health.new_service_result(svc))


def test_healthy_body_reports_name_and_version():
    res = evaluate(normalised(), response(body={"status": "healthy", "service_name": "x", "version": "1.2"}))
    assert (res["status"], res["version"], res["reported_name"], res["error"]) == ("healthy", "1.2", "x", None)


def test_status_field_must_be_healthy():
    res = evaluate(normalised(), response(body={"status": "unhealthy"}))
    assert res["status"] == "unhealthy" and res["error_kind"] == "condition" and "status is 'unhealthy'" in res["error"]


def test_missing_status_field_fails_condition():
    res = evaluate(normalised(), response(body={"service": "x"}))
    assert res["status"] == "unhealthy" and "status is missing" in res["error"]


def test_custom_conditions_lists_and_case():
    svc = normalised(conditions={"checks.db": ["UP", "degraded"], "ready": True})
    assert evaluate(svc, response(body={"checks": {"db": "up"}, "ready": True}))["status"] == "healthy"
    assert evaluate(svc, response(body={"checks": {"db": "up"}, "ready": 1}))["status"] == "unhealthy"


def test_http_500_is_unhealthy_even_with_json():
    res = evaluate(normalised(), response(status=500, body={"status": "healthy", "version": "9"}))
    assert res["status"] == "unhealthy" and res["http_status"] == 500 and res["error"].startswith("HTTP 500")
    assert res["version"] == "9"


def test_accepted_status_codes():
    assert evaluate(normalised(status_codes=[200, 503]), response(status=503, body={"status": "ok"}))["status"] == "healthy"


def test_invalid_json_and_plain_text():
    assert evaluate(normalised(), response(body=b"OK"))["error_kind"] == "invalid_json"
    assert evaluate(normalised(expect_json=False), response(body=b"OK"))["status"] == "healthy"


def test_connection_error_passes_through():
    res = evaluate(normalised(), response(status=None, error="connection refused", kind="refused"))
    assert (res["status"], res["error"], res["http_status"]) == ("unhealthy", "connection refused", None)


def test_latency_threshold_degrades_healthy_only():
    svc = normalised(latency_threshold_ms=100)
    assert evaluate(svc, response(body={"status": "ok"}, latency=150))["status"] == "degraded"
    assert evaluate(svc, response(body={"status": "ok"}, latency=50))["status"] == "healthy"
    assert evaluate(svc, response(status=500, body={"status": "ok"}, latency=150))["status"] == "unhealthy"


def test_result_shape_is_the_same_up_or_down():
    up = evaluate(normalised(), response(body={"status": "ok"}))
    down = evaluate(normalised(), response(status=None, error="timed out", kind="timeout"))
    assert sorted(up) == sorted(down)
    for key in ("name", "status", "http_status", "latency_ms", "version", "error"):
        assert key in up


@pytest.mark.parametrize("spec, fragment", [
    ({"name": "a", "url": "x"}, r"services\[0\]\.url"),
    ({"name": "a", "url": "http://h", "criticality": "high"}, r"services\[0\]\.criticality"),
    ({"name": "a", "url": "http://h", "status_codes": [99]}, r"services\[0\]\.status_codes"),
    ({"name": "a", "url": "http://h", "colour": "red"}, "unknown key"),
    ({"name": "a", "url": "http://h", "conditions": {"a..b": 1}}, "conditions key"),
    ({"name": "a", "url": "http://h", "expect_json": False, "conditions": {"a": 1}}, "expect_json"),
    ({"name": "", "url": "http://h"}, r"services\[0\]\.name"),
])
def test_service_validation_names_the_field(spec, fragment):
    with pytest.raises(ProbeError, match=fragment):
        _health.normalise_services([spec], common())


def test_duplicate_and_empty_services():
    with pytest.raises(ProbeError, match="listed twice"):
        _health.normalise_services([{"name": "a", "url": "http://h"}, {"name": "a", "url": "http://h"}], common())
    with pytest.raises(ProbeError, match="services is empty"):
        _health.normalise_services([], common())


def test_catalog_defaults():
    services = _health.normalise_services(None, common(host="10.1.2.3"))
    assert [s["name"] for s in services][0] == SERVICES[0]["name"]
    assert services[0]["url"] == "http://10.1.2.3:%d" % SERVICES[0]["port"] and services[0]["criticality"] == "critical"
    assert services[0]["dependencies"] == ["postgresql", "redis"]
    tls = _health.normalise_services(None, common(use_tls=True))
    assert tls[6]["url"] == "https://127.0.0.1:%d" % (SERVICES[6]["port"] + TLS_PORT_OFFSET)


# --- aggregation -----------------------------------------------------------------------------

def test_all_healthy():
    status, summary, reasons = _health.aggregate([svc_result("a", "critical", "healthy")], [dep_result("pg", "healthy")])
    assert status == "healthy" and reasons == [] and summary["services"]["healthy"] == 1


def test_critical_service_down_is_critical_and_named_with_its_url():
    status, summary, reasons = _health.aggregate(
        [svc_result("a", "critical", "unhealthy"), svc_result("b", "medium", "healthy")], [])
    assert status == "critical" and summary["critical_failures"] == 1
    assert reasons == ["critical service a is down: x (http://h:1/health)"]


def test_medium_service_down_is_degraded():
    status, _summary, _reasons = _health.aggregate([svc_result("a", "critical", "healthy"), svc_result("b", "medium", "unhealthy")], [])
    assert status == "degraded"


def test_slow_critical_service_is_degraded_not_critical():
    assert _health.aggregate([svc_result("a", "critical", "degraded")], [])[0] == "degraded"


def test_dependency_needed_by_critical_service_is_critical():
    services = [svc_result("a", "critical", "healthy", ["pg"]), svc_result("b", "medium", "healthy", ["nats"])]
    deps = [dep_result("pg", "unhealthy"), dep_result("nats", "healthy")]
    status, _summary, reasons = _health.aggregate(services, deps)
    assert status == "critical" and reasons == ["dependency pg (tcp at h:2) needed by critical service(s) a is down: down"]
    assert deps[0]["needed_by"] == ["a"] and services[0]["impaired_by"] == ["pg"]


def test_dependency_only_medium_needs_is_degraded():
    services = [svc_result("a", "critical", "healthy", ["pg"]), svc_result("b", "medium", "healthy", ["nats"])]
    assert _health.aggregate(services, [dep_result("pg", "healthy"), dep_result("nats", "unhealthy")])[0] == "degraded"


def test_optional_dependency_of_critical_service_is_degraded():
    services = [svc_result("a", "critical", "healthy", ["opa"])]
    assert _health.aggregate(services, [dep_result("opa", "unhealthy", required=False)])[0] == "degraded"


def test_unreferenced_dependency_down_is_degraded():
    assert _health.aggregate([svc_result("a", "critical", "healthy")], [dep_result("x", "unhealthy")])[0] == "degraded"


def test_dependencies_no_entry_defines_are_named():
    services = [svc_result("a", "critical", "healthy", ["postgresql", "opa"]), svc_result("b", "medium", "healthy", ["opa"])]
    assert _health.unchecked_dependencies(services, [{"name": "postgresql"}]) == (
        "not checked, as no dependencies entry defines them: opa (needed by a, b)")
    assert _health.unchecked_dependencies(services, [{"name": "postgresql"}, {"name": "opa"}]) is None


@pytest.mark.parametrize("status, fail_on, expected", [
    ("healthy", "critical", False), ("degraded", "critical", False), ("critical", "critical", True),
    ("healthy", "degraded", False), ("degraded", "degraded", True), ("critical", "degraded", True),
    ("critical", "never", False),
])
def test_should_fail(status, fail_on, expected):
    assert _health.should_fail(status, fail_on) is expected


def test_should_fail_rejects_unknown():
    with pytest.raises(ProbeError, match="fail_on"):
        _health.should_fail("critical", "sometimes")


def test_empty_result_has_every_key():
    assert set(_health.empty_result()) == {"changed", "status", "services", "dependencies", "summary", "reasons",
                                           "summary_lines", "elapsed_ms"}


def test_run_health_warns_and_returns_summary_lines():
    warnings = []
    result, failed, message = _health.run_health(
        common(services=[{"name": "a", "url": "http://127.0.0.1:1", "criticality": "low", "dependencies": ["opa"]}],
               fail_on="never"), warn=warnings.append)
    assert not failed and result["status"] == "degraded" and "service a is down" in message
    assert warnings == ["not checked, as no dependencies entry defines them: opa (needed by a)"]
    assert result["summary_lines"][0].startswith("ACGS platform: DEGRADED")
    assert result["summary_lines"][2].endswith("http://127.0.0.1:1/health")


# --- catalog entries (the service_catalog lookup's output) ------------------------------------

CATALOG = [{"name": "auth-service", "port": 8000, "instance_port": 18000, "tls_port": 9000, "host": "10.0.0.5",
            "purpose": "x", "criticality": "critical", "dependencies": ["postgresql"]},
           {"name": "fv-service", "port": 8003, "tls_port": 9003, "host": "::1"}]


def test_services_from_catalog_entries():
    services = _health.normalise_services(None, common(catalog=CATALOG))
    assert [(s["name"], s["url"], s["criticality"], s["dependencies"]) for s in services] == [
        ("auth-service", "http://10.0.0.5:8000", "critical", ["postgresql"]), ("fv-service", "http://[::1]:8003", "medium", [])]
    tls = _health.normalise_services(None, common(catalog=CATALOG, use_tls=True))
    assert tls[0]["url"] == "https://10.0.0.5:9000"


@pytest.mark.parametrize("catalog, fragment", [
    ([], "non-empty list"),
    (["auth-service"], r"catalog\[0\] must be a catalog entry"),
    ([{"name": "a", "host": "h"}], r"catalog\[0\]\.port is missing"),
    ([{"name": "a", "host": "h", "port": "http"}], "not a port number"),
    ([{"name": "a", "host": "h", "port": 0}], "outside 1-65535"),
    ([{"name": "a", "host": "h", "port": 1, "dependencies": "postgresql"}], "dependencies must be a list"),
])
def test_bad_catalog_entries_are_named(catalog, fragment):
    with pytest.raises(ProbeError, match=fragment):
        _health.normalise_services(None, common(catalog=catalog))

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decision logic of acgs_health and acgs_hash_check, without a network."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import ssl

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _http, _probe, _probe_deps, _probe_hash
from ansible_collections.acgs.platform.plugins.module_utils._http import HttpResult, ProbeError


def common(**kwargs):
    params = dict(host="127.0.0.1", use_tls=False, timeout=1.0, retries=0, retry_delay=0.0, validate_certs=True,
                  ca_path=None, client_cert=None, client_key=None, use_proxy=False, max_workers=10,
                  latency_threshold_ms=1000, fail_on="critical", services=None, dependencies=[])
    params.update(kwargs)
    return params


def svc_result(name, criticality, status, deps=()):
    return {"name": name, "criticality": criticality, "status": status, "error": "x" if status != "healthy" else None,
            "dependencies": list(deps), "impaired_by": []}


def dep_result(name, status, required=True):
    return {"name": name, "type": "tcp", "status": status, "required": required,
            "error": "down" if status != "healthy" else None, "needed_by": []}


def response(status=200, body=b"", headers=None, error=None, kind=None, latency=5):
    res = HttpResult("http://127.0.0.1:1/x")
    res.status, res.body, res.headers, res.error, res.error_kind, res.latency_ms = (
        status, body if isinstance(body, bytes) else json.dumps(body).encode(), dict(
            (k.lower(), v) for k, v in (headers or {}).items()), error, kind, latency)
    return res


# --- JSON paths -----------------------------------------------------------------------------

@pytest.mark.parametrize("data, path, expected", [
    ({"data": {"constitutional_hash": "abc"}}, "data.constitutional_hash", (True, "abc")),
    ({"data": {}}, "data.constitutional_hash", (False, None)),
    ({"checks": [{"status": "ok"}]}, "checks.0.status", (True, "ok")),
    ({"checks": [{"status": "ok"}]}, "checks.3.status", (False, None)),
    ({"a": "text"}, "a.b", (False, None)),
    ({"a": None}, "a", (True, None)),
    ([1, 2], "", (True, [1, 2])),
])
def test_get_path(data, path, expected):
    assert _http.get_path(data, path) == expected


@pytest.mark.parametrize("path", ["a..b", ".a", "a.", 5])
def test_bad_json_path_is_named(path):
    with pytest.raises(ProbeError, match="json_path"):
        _http.validate_path(path, "json_path")


def test_parse_json_errors():
    assert _http.parse_json(b'{"a": 1}') == ({"a": 1}, None)
    assert "not valid JSON" in _http.parse_json(b"<html>")[1]
    assert "empty" in _http.parse_json(b"")[1]
    assert "UTF-8" in _http.parse_json(b"\xff\xfe{")[1]


def test_join_url():
    assert _http.join_url("http://h:1", "/health") == "http://h:1/health"
    assert _http.join_url("http://h:1/", "health") == "http://h:1/health"
    assert _http.join_url("http://h:1/base", "") == "http://h:1/base"


@pytest.mark.parametrize("url", ["ftp://x", "127.0.0.1:8000", "http://", "", None, "http:///path"])
def test_bad_url_is_named(url):
    with pytest.raises(ProbeError, match=r"services\[0\]\.url"):
        _http.validate_url(url, "services[0].url")


def test_scrub_removes_secrets():
    assert _http.scrub("failed for s3cret at s3cret", ["s3cret", None, ""]) == "failed for ******** at ********"


def test_describe_error_classes():
    assert _http.describe_error(ConnectionRefusedError(111, "x"))[0] == "refused"
    assert _http.describe_error(ConnectionResetError(104, "x"))[0] == "reset"
    assert _http.describe_error(socket.timeout("timed out"), 2.5) == ("timeout", "timed out after 2.5s")
    assert _http.describe_error(OSError(101, "Network is unreachable"))[0] == "unreachable"
    assert _http.describe_error(socket.gaierror(-2, "Name or service not known"))[0] == "dns"
    err = ssl.SSLCertVerificationError(1, "certificate verify failed")
    err.verify_message = "self-signed certificate"
    assert _http.describe_error(err) == ("tls", "TLS certificate verification failed: self-signed certificate")


def test_with_retries_stops_on_success_and_counts():
    calls = []

    def func():
        calls.append(1)
        return len(calls)

    assert _http.with_retries(func, 5, 0, lambda r: r >= 3) == (3, 3)
    calls[:] = []
    assert _http.with_retries(func, 1, 0, lambda r: False) == (2, 2)


def test_run_concurrently_keeps_order():
    assert _http.run_concurrently([(lambda i=i: i * 2) for i in range(20)], 4) == [i * 2 for i in range(20)]
    assert _http.run_concurrently([], 4) == []


@pytest.mark.parametrize("key, value", [("timeout", 0), ("retries", -1), ("retry_delay", -1), ("max_workers", 0),
                                        ("host", "a b"), ("host", "")])
def test_common_validation_names_parameter(key, value):
    with pytest.raises(ProbeError, match=key):
        _http.validate_common(common(**{key: value}))


# --- service evaluation ----------------------------------------------------------------------

def normalised(**spec):
    base = {"name": "svc", "url": "http://127.0.0.1:1"}
    base.update(spec)
    return _probe.normalise_services([base], common())[0]


def evaluate(svc, resp):
    return _probe.evaluate_response(svc, resp, _probe.new_service_result(svc))


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
        _probe.normalise_services([spec], common())


def test_duplicate_and_empty_services():
    with pytest.raises(ProbeError, match="listed twice"):
        _probe.normalise_services([{"name": "a", "url": "http://h"}, {"name": "a", "url": "http://h"}], common())
    with pytest.raises(ProbeError, match="services is empty"):
        _probe.normalise_services([], common())


def test_catalog_defaults():
    services = _probe.normalise_services(None, common(host="10.1.2.3"))
    assert [s["name"] for s in services][0] == "auth-service"
    assert services[0]["url"] == "http://10.1.2.3:8000" and services[0]["criticality"] == "critical"
    assert services[0]["dependencies"] == ["postgresql", "redis"]
    tls = _probe.normalise_services(None, common(use_tls=True))
    assert tls[6]["url"] == "https://127.0.0.1:9006"


# --- aggregation -----------------------------------------------------------------------------

def test_all_healthy():
    status, summary, reasons = _probe.aggregate([svc_result("a", "critical", "healthy")], [dep_result("pg", "healthy")])
    assert status == "healthy" and reasons == [] and summary["services"]["healthy"] == 1


def test_critical_service_down_is_critical():
    status, summary, reasons = _probe.aggregate(
        [svc_result("a", "critical", "unhealthy"), svc_result("b", "medium", "healthy")], [])
    assert status == "critical" and summary["critical_failures"] == 1 and "critical service a" in reasons[0]


def test_medium_service_down_is_degraded():
    status, _summary, _reasons = _probe.aggregate([svc_result("a", "critical", "healthy"), svc_result("b", "medium", "unhealthy")], [])
    assert status == "degraded"


def test_slow_critical_service_is_degraded_not_critical():
    assert _probe.aggregate([svc_result("a", "critical", "degraded")], [])[0] == "degraded"


def test_dependency_needed_by_critical_service_is_critical():
    services = [svc_result("a", "critical", "healthy", ["pg"]), svc_result("b", "medium", "healthy", ["nats"])]
    deps = [dep_result("pg", "unhealthy"), dep_result("nats", "healthy")]
    status, _summary, reasons = _probe.aggregate(services, deps)
    assert status == "critical" and "needed by critical service(s) a" in reasons[0]
    assert deps[0]["needed_by"] == ["a"] and services[0]["impaired_by"] == ["pg"]


def test_dependency_only_medium_needs_is_degraded():
    services = [svc_result("a", "critical", "healthy", ["pg"]), svc_result("b", "medium", "healthy", ["nats"])]
    assert _probe.aggregate(services, [dep_result("pg", "healthy"), dep_result("nats", "unhealthy")])[0] == "degraded"


def test_optional_dependency_of_critical_service_is_degraded():
    services = [svc_result("a", "critical", "healthy", ["opa"])]
    assert _probe.aggregate(services, [dep_result("opa", "unhealthy", required=False)])[0] == "degraded"


def test_unreferenced_dependency_down_is_degraded():
    assert _probe.aggregate([svc_result("a", "critical", "healthy")], [dep_result("x", "unhealthy")])[0] == "degraded"


@pytest.mark.parametrize("status, fail_on, expected", [
    ("healthy", "critical", False), ("degraded", "critical", False), ("critical", "critical", True),
    ("healthy", "degraded", False), ("degraded", "degraded", True), ("critical", "degraded", True),
    ("critical", "never", False),
])
def test_should_fail(status, fail_on, expected):
    assert _probe.should_fail(status, fail_on) is expected


def test_should_fail_rejects_unknown():
    with pytest.raises(ProbeError, match="fail_on"):
        _probe.should_fail("critical", "sometimes")


def test_empty_result_has_every_key():
    assert set(_probe.empty_result()) == {"changed", "status", "services", "dependencies", "summary", "reasons", "elapsed_ms"}


# --- dependencies ----------------------------------------------------------------------------

@pytest.mark.parametrize("spec, fragment", [
    ({"name": "t", "type": "tcp"}, r"dependencies\[0\]\.port is required"),
    ({"name": "h", "type": "http"}, r"dependencies\[0\]\.url is required"),
    ({"name": "h", "type": "http", "url": "nope"}, r"dependencies\[0\]\.url"),
    ({"name": "p", "type": "postgresql", "port": 70000}, "outside 1-65535"),
    ({"name": "p", "type": "mysql"}, r"dependencies\[0\]\.type"),
    ({"name": "p", "type": "postgresql", "pool_threshold_percent": 0}, "pool_threshold_percent"),
])
def test_dependency_validation_names_the_field(spec, fragment):
    with pytest.raises(ProbeError, match=fragment):
        _probe_deps.normalise_dependencies([spec], "127.0.0.1")


def test_dependency_defaults():
    deps = _probe_deps.normalise_dependencies([{"name": "pg", "type": "postgresql"}, {"name": "r", "type": "redis", "host": "h"}], "10.0.0.1")
    assert (deps[0]["host"], deps[0]["port"], deps[1]["host"], deps[1]["port"]) == ("10.0.0.1", 5432, "h", 6379)


def test_dependency_result_shape_is_fixed_per_type():
    for dtype, keys in _probe_deps.DETAIL_KEYS.items():
        res = _probe_deps.new_result({"name": "x", "type": dtype})
        assert sorted(res["details"]) == sorted(keys) and all(v is None for v in res["details"].values())


# --- hash finding order ----------------------------------------------------------------------

HASH = "cdd01ef066bc6cf2"
OTHER = "0123456789abcdef"


def hash_params(**kwargs):
    params = common(expected_hash=HASH, sources=list(_probe_hash.SOURCES), compliance_path="/api/v1/compliance/status",
                    health_path="/health", json_path="data.constitutional_hash", hash_key="constitutional_hash",
                    header_name="X-Constitutional-Hash", files=[], fail_on="any")
    params.update(kwargs)
    return params


def fetcher(routes):
    seen = []

    def fetch(path):
        seen.append(path)
        return routes.get(path) or response(status=None, error="connection refused", kind="refused")
    fetch.seen = seen
    return fetch


def find(routes, sources=None, json_path=None):
    svc = {"name": "s", "url": "http://h", "sources": sources or list(_probe_hash.SOURCES), "json_path": json_path}
    fetch = fetcher(routes)
    return _probe_hash.find_hash(svc, fetch, hash_params())[:2], fetch.seen


def test_compliance_endpoint_first():
    routes = {"/api/v1/compliance/status": response(body={"data": {"constitutional_hash": HASH}, "constitutional_hash": OTHER},
                                                    headers={"X-Constitutional-Hash": OTHER})}
    assert find(routes) == ((HASH, "compliance_endpoint"), ["/api/v1/compliance/status"])


def test_then_top_level_key():
    routes = {"/api/v1/compliance/status": response(body={"constitutional_hash": HASH.upper()})}
    assert find(routes)[0] == (HASH, "top_level")


def test_then_health_body():
    routes = {"/api/v1/compliance/status": response(status=404, body={"error": "nope"}),
              "/health": response(body={"status": "ok", "constitutional_hash": HASH})}
    assert find(routes)[0] == (HASH, "health")


def test_then_header_of_either_response():
    routes = {"/api/v1/compliance/status": response(status=404, body=b"not json", headers={"X-Constitutional-Hash": HASH})}
    assert find(routes)[0] == (HASH, "header")
    routes = {"/health": response(body=b"OK", headers={"x-constitutional-hash": HASH})}
    assert find(routes)[0] == (HASH, "header")


def test_order_is_configurable():
    routes = {"/api/v1/compliance/status": response(body={"data": {"constitutional_hash": HASH}}, headers={"X-Constitutional-Hash": OTHER})}
    assert find(routes, sources=["header", "compliance_endpoint"])[0] == (OTHER, "header")


def test_custom_json_path():
    routes = {"/api/v1/compliance/status": response(body={"compliance": {"hash": HASH}})}
    assert find(routes, sources=["compliance_endpoint"], json_path="compliance.hash")[0] == (HASH, "compliance_endpoint")


def test_nothing_found_lists_problems():
    svc = {"name": "s", "url": "http://h", "sources": list(_probe_hash.SOURCES), "json_path": None}
    value, source, _url, problems = _probe_hash.find_hash(svc, fetcher({}), hash_params())
    assert value is None and source is None and any("connection refused" in p for p in problems)


def test_non_string_hash_values_are_ignored():
    routes = {"/api/v1/compliance/status": response(body={"data": {"constitutional_hash": {"v": HASH}}, "constitutional_hash": True}),
              "/health": response(body={"constitutional_hash": HASH})}
    assert find(routes)[0] == (HASH, "health")


@pytest.mark.parametrize("value", ["xyz", "cdd01ef0", "", "g" * 16])
def test_expected_hash_must_be_hex(value):
    with pytest.raises(ProbeError, match="expected_hash"):
        _probe_hash.normalise(hash_params(expected_hash=value))


@pytest.mark.parametrize("kwargs, fragment", [
    ({"sources": []}, "sources must not be empty"),
    ({"sources": ["health", "health"]}, "twice"),
    ({"sources": ["body"]}, "not one of"),
    ({"fail_on": "some"}, "fail_on"),
    ({"header_name": "a:b"}, "header_name"),
    ({"json_path": "a..b"}, "json_path"),
    ({"services": [{"name": "a", "url": "nope"}]}, r"services\[0\]\.url"),
    ({"files": [{"path": "/x", "regex": "("}]}, r"files\[0\]\.regex"),
    ({"files": [{"path": "/x", "format": "text"}]}, "needs a regex"),
    ({"files": [{"path": "/x", "regex": "a", "json_path": "b"}]}, "mutually exclusive"),
])
def test_hash_validation_names_the_parameter(kwargs, fragment):
    with pytest.raises(ProbeError, match=fragment):
        _probe_hash.normalise(hash_params(**kwargs))


def test_files_json_yaml_regex(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"constitutional_hash": HASH}))
    (tmp_path / "b.yml").write_text("acgs:\n  hash: %s\n" % OTHER)
    (tmp_path / "c.rego").write_text('package acgs\nconstitutional_hash := "%s"\n' % HASH)
    (tmp_path / "d.json").write_text("{not json")
    params = hash_params(files=[
        {"path": str(tmp_path / "a.json")},
        {"path": str(tmp_path / "b.yml"), "json_path": "acgs.hash"},
        {"path": str(tmp_path / "c.rego"), "regex": r'constitutional_hash\s*:=\s*"([0-9a-f]+)"'},
        {"path": str(tmp_path / "d.json")},
        {"path": str(tmp_path / "missing.json")},
    ])
    result, failed, message = _probe_hash.run_hash_check(params)
    files = result["files"]
    assert [f["compliant"] for f in files] == [True, False, True, False, False]
    assert files[1]["hash"] == OTHER and files[2]["source"] == "file:regex"
    assert "not valid JSON" in files[3]["error"] and "cannot read" in files[4]["error"]
    assert result["services"] == [] and failed and result["compliance_percent"] == 40.0
    assert result["mismatches"] == [{"name": str(tmp_path / "b.yml"), "found": OTHER, "expected": HASH, "source": "file:json_path"}]
    assert "no hash found" in message


# --- catalog entries (the service_catalog lookup's output) ------------------------------------

CATALOG = [{"name": "auth-service", "port": 8000, "instance_port": 18000, "tls_port": 9000, "host": "10.0.0.5",
            "purpose": "x", "criticality": "critical", "dependencies": ["postgresql"], "constitutional_hash": HASH},
           {"name": "fv-service", "port": 8003, "tls_port": 9003, "host": "::1"}]


def test_services_from_catalog_entries():
    services = _probe.normalise_services(None, common(catalog=CATALOG))
    assert [(s["name"], s["url"], s["criticality"], s["dependencies"]) for s in services] == [
        ("auth-service", "http://10.0.0.5:8000", "critical", ["postgresql"]), ("fv-service", "http://[::1]:8003", "medium", [])]
    tls = _probe.normalise_services(None, common(catalog=CATALOG, use_tls=True))
    assert tls[0]["url"] == "https://10.0.0.5:9000"
    expected, hash_services, _files = _probe_hash.normalise(hash_params(catalog=CATALOG))
    assert hash_services[1]["url"] == "http://[::1]:8003" and expected == HASH


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
        _probe.normalise_services(None, common(catalog=catalog))

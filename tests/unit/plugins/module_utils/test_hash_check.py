# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where acgs_hash_check finds the constitutional hash, and what it refuses, without a network."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _hash_check, _probe_args
from ansible_collections.acgs.platform.plugins.module_utils._http import HttpResult
from ansible_collections.acgs.platform.plugins.module_utils._probe_args import ProbeError
from ansible_collections.acgs.platform.plugins.module_utils.catalog import CONSTITUTIONAL_HASH as HASH

OTHER = "0123456789abcdef"


def response(status=200, body=b"", headers=None, error=None, kind=None):
    res = HttpResult("http://127.0.0.1:1/x")
    res.status, res.body, res.headers, res.error, res.error_kind, res.latency_ms = (
        status, body if isinstance(body, bytes) else json.dumps(body).encode(), dict(
            (k.lower(), v) for k, v in (headers or {}).items()), error, kind, 5)
    return res


def hash_params(**kwargs):
    params = dict((key, spec.get("default")) for key, spec in _probe_args.probe_common_argument_spec().items())
    params.update(timeout=1.0, retry_delay=0.0, use_proxy=False, services=None, expected_hash=HASH,
                  sources=list(_hash_check.SOURCES), compliance_path="/api/v1/compliance/status",
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
    svc = {"name": "s", "url": "http://h", "sources": sources or list(_hash_check.SOURCES), "json_path": json_path}
    fetch = fetcher(routes)
    return _hash_check.find_hash(svc, fetch, hash_params())[:2], fetch.seen


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
    svc = {"name": "s", "url": "http://h", "sources": list(_hash_check.SOURCES), "json_path": None}
    value, source, _url, problems = _hash_check.find_hash(svc, fetcher({}), hash_params())
    assert value is None and source is None and any("connection refused" in p for p in problems)


def test_non_string_hash_values_are_ignored():
    routes = {"/api/v1/compliance/status": response(body={"data": {"constitutional_hash": {"v": HASH}}, "constitutional_hash": True}),
              "/health": response(body={"constitutional_hash": HASH})}
    assert find(routes)[0] == (HASH, "health")


@pytest.mark.parametrize("value", ["xyz", "cdd01ef0", "", "g" * 16])
def test_expected_hash_must_be_hex(value):
    with pytest.raises(ProbeError, match="expected_hash"):
        _hash_check.normalise(hash_params(expected_hash=value))


def test_expected_hash_defaults_to_the_catalog():
    assert _hash_check.normalise(hash_params(expected_hash=None))[0] == HASH


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
        _hash_check.normalise(hash_params(**kwargs))


def test_files_json_yaml_regex(tmp_path):
    pytest.importorskip("yaml")
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
    result, failed, message = _hash_check.run_hash_check(params)
    files = result["files"]
    assert [f["compliant"] for f in files] == [True, False, True, False, False]
    assert files[1]["hash"] == OTHER and files[2]["source"] == "file:regex"
    assert "not valid JSON" in files[3]["error"] and "cannot read" in files[4]["error"]
    assert result["services"] == [] and failed and result["compliance_percent"] == 40.0
    assert result["mismatches"] == [{"name": str(tmp_path / "b.yml"), "found": OTHER, "expected": HASH, "source": "file:json_path"}]
    assert "no hash found" in message


def test_services_from_catalog_entries():
    catalog = [{"name": "auth-service", "port": 8000, "tls_port": 9000, "host": "10.0.0.5"},
               {"name": "fv-service", "port": 8003, "tls_port": 9003, "host": "::1"}]
    expected, services, _files = _hash_check.normalise(hash_params(catalog=catalog))
    assert [s["url"] for s in services] == ["http://10.0.0.5:8000", "http://[::1]:8003"] and expected == HASH

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""acgs_hash_check run through main() against loopback servers these tests start."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.acgs.platform.plugins.modules import acgs_hash_check
from ansible_collections.acgs.platform.tests.unit.plugins.test_support.fault_servers import (
    JsonServer,
    RawServer,
    free_port,
    self_signed_cert,
)

HASH = "cdd01ef066bc6cf2"
WRONG = "deadbeefdeadbeef"
COMPLIANCE = "/api/v1/compliance/status"


def run(capsys, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            acgs_hash_check.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def test_sources_each_found(capsys):
    servers = [
        JsonServer({COMPLIANCE: (200, {"data": {"constitutional_hash": HASH}})}),
        JsonServer({COMPLIANCE: (200, {"constitutional_hash": HASH})}),
        JsonServer({"/health": (200, {"status": "healthy", "constitutional_hash": HASH})}),
        JsonServer({"/health": (200, b"OK", {"X-Constitutional-Hash": HASH})}),
    ]
    for server in servers:
        server.__enter__()
    try:
        services = [{"name": "s%d" % i, "url": s.url} for i, s in enumerate(servers)]
        rc, result = run(capsys, {"services": services})
    finally:
        for server in servers:
            server.__exit__()
    assert rc == 0 and result["compliant"] and result["compliance_percent"] == 100.0, result
    assert [s["source"] for s in result["services"]] == ["compliance_endpoint", "top_level", "health", "header"]
    assert result["mismatches"] == [] and result["missing"] == []


def test_mismatch_fails_and_is_listed(capsys):
    with JsonServer({COMPLIANCE: (200, {"data": {"constitutional_hash": WRONG}})}) as bad, \
            JsonServer({COMPLIANCE: (200, {"data": {"constitutional_hash": HASH}})}) as good:
        rc, result = run(capsys, {"services": [{"name": "bad", "url": bad.url}, {"name": "good", "url": good.url}]})
        assert rc == 1 and result["failed"] and not result["compliant"] and result["compliance_percent"] == 50.0
        assert result["mismatches"] == [{"name": "bad", "found": WRONG, "expected": HASH, "source": "compliance_endpoint"}]
        assert "bad=" + WRONG in result["msg"]
        rc, result = run(capsys, {"services": [{"name": "bad", "url": bad.url}], "fail_on": "never"})
        assert rc == 0 and not result["compliant"]


def test_missing_hash_and_fail_on_mismatch(capsys):
    with JsonServer({"/health": (200, {"status": "healthy"})}) as server:
        rc, result = run(capsys, {"services": [{"name": "x", "url": server.url}]})
        assert rc == 1 and result["missing"] == ["x"] and result["services"][0]["source"] is None
        assert "no constitutional hash found" in result["services"][0]["error"]
        rc, result = run(capsys, {"services": [{"name": "x", "url": server.url}], "fail_on": "mismatch"})
        assert rc == 0 and result["missing"] == ["x"]


def test_faults_give_a_missing_hash_not_a_traceback(capsys, tmp_path):
    pem, _crt = self_signed_cert(tmp_path)
    with RawServer("hang") as hang, RawServer("reset") as reset, JsonServer({COMPLIANCE: (500, b"oops")}) as err, \
            JsonServer({COMPLIANCE: (200, {"data": {"constitutional_hash": HASH}})}, tls_cert=pem) as tls:
        services = [{"name": "closed", "url": "http://127.0.0.1:%d" % free_port()},
                    {"name": "hang", "url": hang.url}, {"name": "reset", "url": reset.url},
                    {"name": "err", "url": err.url}, {"name": "tls", "url": tls.url}]
        rc, result = run(capsys, {"services": services, "timeout": 1})
    errors = dict((s["name"], s["error"]) for s in result["services"])
    assert rc == 1 and sorted(result["missing"]) == sorted(s["name"] for s in services)
    assert "connection refused" in errors["closed"] and "timed out after 1s" in errors["hang"]
    assert "HTTP 500" in errors["err"] and "TLS certificate verification failed" in errors["tls"]
    # a server that did not answer is not asked again for the other endpoints (one timeout, not three):
    # counted at the server, which a loaded machine does not change as it does a wall-clock bound
    assert len(hang.held) == 1, "the hung server was asked %d times" % len(hang.held)


def test_expected_hash_validation(capsys):
    rc, result = run(capsys, {"services": [{"name": "x", "url": "http://127.0.0.1:1"}], "expected_hash": "not-a-hash"})
    assert rc == 1 and "expected_hash" in result["msg"] and "hexadecimal" in result["msg"]
    assert set(["compliant", "compliance_percent", "services", "mismatches"]) <= set(result)


@pytest.mark.parametrize("args, fragment", [
    ({"sources": ["nowhere"]}, "sources"),
    ({"services": [{"url": "http://h"}]}, "name"),
    ({"files": [{"path": "/x", "regex": "a", "json_path": "b"}]}, "mutually exclusive"),
    ({"services": [{"name": "a", "url": "http://h"}], "json_path": "a..b"}, "json_path"),
])
def test_malformed_parameters_are_named(capsys, args, fragment):
    rc, result = run(capsys, args)
    assert rc == 1 and fragment in result["msg"], result["msg"]
    assert "Traceback" not in result["msg"]


def test_files(capsys, tmp_path):
    good = tmp_path / "svc.json"
    good.write_text(json.dumps({"service": {"constitutional_hash": HASH}}))
    rc, result = run(capsys, {"files": [{"path": str(good), "json_path": "service.constitutional_hash"}]})
    assert rc == 0 and result["files"][0]["compliant"] and result["services"] == []

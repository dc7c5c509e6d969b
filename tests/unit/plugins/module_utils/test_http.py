# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP GETs that never raise, and look-ups in JSON bodies."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _http
from ansible_collections.acgs.platform.tests.unit.plugins.test_support.fault_servers import JsonServer, free_port

OPTIONS = {"timeout": 2.0, "use_proxy": False, "validate_certs": True}


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


def test_parse_json_errors():
    assert _http.parse_json(b'{"a": 1}') == ({"a": 1}, None)
    assert "not valid JSON" in _http.parse_json(b"<html>")[1]
    assert "empty" in _http.parse_json(b"")[1]
    assert "UTF-8" in _http.parse_json(b"\xff\xfe{")[1]


def test_join_url():
    assert _http.join_url("http://h:1", "/health") == "http://h:1/health"
    assert _http.join_url("http://h:1/", "health") == "http://h:1/health"
    assert _http.join_url("http://h:1/base", "") == "http://h:1/base"
    assert _http.join_url("http://h:1", "https://other/x") == "https://other/x"


def test_get_answers_and_refusal():
    with JsonServer({"/health": (503, {"status": "unhealthy"})}) as server:
        result = _http.http_get(server.url + "/health", OPTIONS)
    assert (result.status, result.json(), result.error) == (503, ({"status": "unhealthy"}, None), None)
    refused = _http.http_get("http://127.0.0.1:%d/health" % free_port(), OPTIONS)
    assert (refused.status, refused.error_kind, refused.error) == (None, "refused", "connection refused")

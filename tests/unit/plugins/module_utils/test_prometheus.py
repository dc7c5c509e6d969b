# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Prometheus client: the answer of an instant query turned into one number or why not,
against a loopback server that answers as Prometheus's /api/v1/query does."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import signal
import threading
import time

from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs, urlparse

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _prometheus
from ansible_collections.acgs.platform.plugins.module_utils._signals import Interrupted
from ansible_collections.acgs.platform.tests.unit.plugins.test_support.fault_servers import free_port


def vector(*values):
    return {"status": "success", "data": {"resultType": "vector",
                                          "result": [{"metric": {"server": "s%d" % i}, "value": [1.5, v]} for i, v in enumerate(values)]}}


@pytest.mark.parametrize("answer, value, error", [
    (vector("12"), 12.0, None),
    (vector("0.004"), 0.004, None),
    ({"status": "success", "data": {"resultType": "scalar", "result": [1.5, "3"]}}, 3.0, None),
    (vector(), None, "no data (the query matched no series)"),
    (vector("NaN"), None, "no data (the value is NaN)"),
    (vector("+Inf"), None, "no data (the value is +Inf)"),
    (vector("1", "2"), None, "2 series, not one"),
    ({"status": "error", "errorType": "bad_data", "error": "parse error"}, None, "Prometheus answered bad_data: parse error"),
    ({"status": "success", "data": {"resultType": "matrix", "result": []}}, None, "a matrix result"),
    ([], None, "the answer is not a JSON object"),
])
def test_single_value(answer, value, error):
    got_value, got_error = _prometheus.single_value(answer)
    assert got_value == value
    assert (got_error or "").startswith(error or "")
    assert (got_error is None) == (error is None)


def test_query_url():
    url = _prometheus.query_url("http://127.0.0.1:9090/", 'sum(x{a="b"}[30s])', at=1795846868.1234)
    assert url == "http://127.0.0.1:9090/api/v1/query?query=sum%28x%7Ba%3D%22b%22%7D%5B30s%5D%29&time=1795846868.123"


class _Server(ThreadingMixIn, HTTPServer):
    daemon_threads = True


class FakePrometheus(object):
    """A loopback HTTP server answering /api/v1/query as Prometheus: vector(1) -> 1, an
    expression with ``bad(`` -> HTTP 400 bad_data, ``slow`` -> after 3 s, anything else -> ``value``."""

    def __init__(self, value="42"):
        outer = self
        self.asked = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # pylint: disable=arguments-differ
                pass

            def do_GET(self):  # pylint: disable=invalid-name
                url = urlparse(self.path)
                expr = parse_qs(url.query).get("query", [""])[0]
                outer.asked.append((url.path, parse_qs(url.query)))
                status, body = 200, vector(value)
                if expr == "vector(1)":
                    body = vector("1")
                elif "bad(" in expr:
                    status, body = 400, {"status": "error", "errorType": "bad_data", "error": "1:1: parse error"}
                elif "slow" in expr:
                    time.sleep(3)
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_instant_query_against_a_server():
    with FakePrometheus("17") as prom:
        assert _prometheus.instant_query(prom.url, "sum(x)", at=100.5, timeout=2) == (17.0, None)
        path, query = prom.asked[-1]
        assert path == "/api/v1/query" and query == {"query": ["sum(x)"], "time": ["100.500"]}
        value, error = _prometheus.instant_query(prom.url, "bad(", timeout=2)
        assert value is None and error == "Prometheus answered bad_data: 1:1: parse error"


def test_unreachable_and_slow_are_errors_within_the_timeout():
    url = "http://127.0.0.1:%d" % free_port()
    value, error = _prometheus.instant_query(url, "sum(x)", timeout=2)
    assert value is None and error.startswith("Prometheus at %s did not answer: " % url)
    with FakePrometheus() as prom:
        started = time.monotonic()
        value, error = _prometheus.instant_query(prom.url, "slow", timeout=0.5)
        assert time.monotonic() - started < 2.5
        assert value is None and "did not answer" in error


def test_preflight():
    with FakePrometheus() as prom:
        assert _prometheus.preflight(prom.url, {"requests": "sum(x)", "errors": "sum(y)"}, timeout=2) is None
        name, why = _prometheus.preflight(prom.url, {"requests": "sum(x)", "errors": "bad("}, timeout=2)
        assert name == "errors" and "refused the query (bad_data: 1:1: parse error)" in why
    url = "http://127.0.0.1:%d" % free_port()
    name, why = _prometheus.preflight(url, {"requests": "sum(x)"}, timeout=2)
    assert name is None and "did not answer" in why


def test_a_signal_during_a_query_is_not_swallowed():
    """acgs_canary turns SIGINT/SIGTERM into Interrupted to put the traffic back: a query in
    flight (the HTTP GET turns every Exception into an error result) must let it through."""
    def on_signal(signum, _frame):
        raise Interrupted(signum)

    previous = signal.signal(signal.SIGALRM, on_signal)
    try:
        with FakePrometheus() as prom:
            started = time.monotonic()
            signal.setitimer(signal.ITIMER_REAL, 0.3)
            with pytest.raises(Interrupted):
                _prometheus.instant_query(prom.url, "slow", timeout=10)
            assert time.monotonic() - started < 2
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

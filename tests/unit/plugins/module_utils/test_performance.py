# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/_performance: wrk's summary, host samples, the KPI verdicts, stress steps, the picture;
run_slice against a real HTTP server on loopback with the real wrk."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import tempfile
import threading

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _performance as perf

LINE = ('ACGS_WRK {"requests": 1000, "duration_us": 2000000, "bytes": 1, "errors": {"connect": 0, "read": 1, '
        '"write": 0, "status": 9, "timeout": 0}, "latency_us": {"min": 10, "mean": 900.5, "max": 9000, "p50": 800, '
        '"p90": 1500, "p95": 2500, "p99": 6000, "p999": 8000}}')


def result(rps, p95, p99, requests=100, failed=0, connect=0):
    return {"requests": requests, "failed": failed, "throughput_rps": rps, "errors": {"connect": connect},
            "p50_ms": p95 / 2, "p90_ms": p95, "p95_ms": p95, "p99_ms": p99, "p999_ms": p99, "max_ms": p99}


def test_lua_script_has_the_paths_and_marker_and_refuses_bad_paths():
    script = perf.lua_script(["/health", "/x"])
    assert '"/health", "/x"' in script and perf.WRK_MARKER in script and "percentile(95)" in script
    for bad in ([], ["health"], ['/a"b']):
        with pytest.raises(perf.PerformanceError):
            perf.lua_script(bad)


def test_parse_wrk_reads_the_marker_line_in_milliseconds():
    out = perf.parse_wrk("Running 2s test\n" + LINE + "\nRequests/sec: 500\n")
    assert out["requests"] == 1000 and out["throughput_rps"] == 500.0
    assert out["failed"] == 10 and out["error_rate_percent"] == 1.0
    assert (out["p50_ms"], out["p95_ms"], out["p99_ms"], out["max_ms"]) == (0.8, 2.5, 6.0, 9.0)


def test_parse_wrk_without_a_summary_names_the_problem():
    with pytest.raises(perf.PerformanceError, match="no summary"):
        perf.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused")
    with pytest.raises(perf.PerformanceError, match="unreadable"):
        perf.parse_wrk("ACGS_WRK {not json")


def test_cpu_and_memory_from_proc_texts():
    before = perf.cpu_times("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 1 1 1\n")
    after = perf.cpu_times("cpu  250 0 150 800 100 0 0 0 0 0\n")
    assert before == (200, 1000) and perf.cpu_percent(before, after) == 66.7
    assert perf.cpu_percent(before, before) is None
    assert perf.memory_percent("MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 250 kB\n") == 75.0
    with pytest.raises(perf.PerformanceError):
        perf.memory_percent("MemTotal: 1000 kB\n")
    with pytest.raises(perf.PerformanceError):
        perf.cpu_times("intr 1\n")


def test_combine_sums_throughput_and_takes_the_worst_service():
    step = perf.combine({"a": result(100.0, 2.0, 9.0, failed=1), "b": result(200.0, 4.0, 5.0, connect=1)}, 1.0)
    assert step["throughput_rps"] == 300.0 and step["requests"] == 200
    assert step["p95_ms"] == 4.0 and step["p95_service"] == "b"
    assert step["p99_ms"] == 9.0 and step["p99_service"] == "a"
    assert step["error_rate_percent"] == round(100.0 / 201, 3)


def test_summarize_counts_requests_per_wall_second_and_keeps_the_worst_slice():
    slices = [dict(requests=100, failed=0, seconds=1.0, cpu_percent=50.0, memory_percent=10.0, **{k: 1.0 for k in
                   ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms")}),
              dict(requests=300, failed=4, seconds=1.0, cpu_percent=None, memory_percent=12.0, **{k: 3.0 for k in
                   ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms")})]
    out = perf.summarize(slices)
    assert out["throughput_rps"] == 200.0 and out["error_rate_percent"] == 1.0
    assert out["p99_ms"] == 3.0 and out["cpu_percent"] == 50.0 and out["memory_percent"] == 12.0


def test_kpi_directions_and_not_measured_is_never_a_pass():
    assert perf.kpi("throughput_rps", 1000, 1000)["passed"] is False
    assert perf.kpi("throughput_rps", 1000.1, 1000)["status"] == "passed"
    assert perf.kpi("p99_ms", 4.99, 5)["passed"] is True
    assert perf.kpi("p99_ms", 5, 5)["passed"] is False
    assert perf.kpi("compliance_percent", 100, 100)["passed"] is True
    assert perf.kpi("compliance_percent", 99.9, 100)["passed"] is False
    none = perf.kpi("cache_hit_rate_percent", None, 85, note="no lookups")
    assert none["passed"] is None and none["status"] == "not measured" and none["note"] == "no lookups"
    with pytest.raises(perf.PerformanceError, match="unknown KPI"):
        perf.kpi("speed", 1, 1)
    with pytest.raises(perf.PerformanceError, match="threshold of p95_ms"):
        perf.kpi("p95_ms", 1, "fast")
    with pytest.raises(perf.PerformanceError):
        perf.kpi("p95_ms", True, 1)


def test_evaluate_lists_failed_and_unmeasured_in_the_runbooks_order():
    verdict = perf.evaluate({"p99_ms": {"value": 7, "source": "wrk"}, "throughput_rps": 2000, "cache_hit_rate_percent": {"value": None}},
                            {"cache_hit_rate_percent": 85, "p99_ms": 5, "throughput_rps": 1000})
    assert [k["name"] for k in verdict["kpis"]] == ["throughput_rps", "p99_ms", "cache_hit_rate_percent"]
    assert verdict["failed"] == ["p99_ms"] and verdict["not_measured"] == ["cache_hit_rate_percent"]
    assert verdict["passed"] is False
    assert perf.evaluate({"throughput_rps": 2000}, {"throughput_rps": 1000, "p95_ms": 500})["passed"] is True
    with pytest.raises(perf.PerformanceError):
        perf.evaluate({}, {})


def vector(**values):
    return [{"metric": {"service": name.replace("_", "-")}, "value": [1795846000.5, str(v)]} for name, v in values.items()]


def test_cache_hit_rate_from_the_services_counters_with_redis_beside_it():
    measured = perf.cache_hit_rate(
        {"hits": vector(auth_service=900.4, ec_service=1000), "misses": vector(auth_service=10, ec_service="NaN"),
         "errors": vector(auth_service=90, ec_service=0)},
        {"keyspace_hits": 5, "keyspace_misses": 5}, {"keyspace_hits": 1905, "keyspace_misses": 25})
    # Failed lookups count against the rate: 1900 of 2000.
    assert measured["value"] == 95.0
    assert measured["prometheus"]["lookups"] == 2000 and measured["prometheus"]["errors"] == 90
    assert measured["prometheus"]["services"]["auth-service"] == {"hits": 900, "misses": 10, "errors": 90, "hit_rate_percent": 90.0}
    assert measured["prometheus"]["services"]["ec-service"]["hit_rate_percent"] == 100.0
    assert measured["source"].startswith("Prometheus: ") and "auth-service 90.0%" in measured["source"]
    assert measured["redis"] == {"hits": 1900, "misses": 20, "lookups": 1920, "hit_rate_percent": 98.96, "note": ""}
    assert "Redis INFO beside it: 98.96% of 1920" in measured["source"] and measured["note"] == ""
    # The verdict the KPI gets from it.
    assert perf.kpi("cache_hit_rate_percent", measured["value"], 85)["status"] == "passed"
    assert perf.kpi("cache_hit_rate_percent", perf.cache_hit_rate({"hits": vector(a=1), "errors": vector(a=9)})["value"], 85)["passed"] is False


def test_cache_hit_rate_falls_back_to_redis_then_says_why_not():
    measured = perf.cache_hit_rate(None, {"keyspace_hits": 10, "keyspace_misses": 0}, {"keyspace_hits": 40, "keyspace_misses": 10})
    assert measured["value"] == 75.0 and measured["source"].startswith("Redis INFO") and "every client" in measured["note"]
    # Services with a cache that saw nothing: not measured, named.
    idle = perf.cache_hit_rate({"hits": vector(pgc_service=0), "misses": vector(pgc_service=0)}, {}, {})
    assert idle["value"] is None and "pgc-service" in idle["note"]
    # Nothing at all; Redis restarted (its counters went down): not measured, with why.
    none = perf.cache_hit_rate({}, {"keyspace_hits": 50, "keyspace_misses": 5}, {"keyspace_hits": 3, "keyspace_misses": 1})
    assert none["value"] is None and "nothing uses Redis as a cache" in none["note"] and "went down" in none["note"]
    assert none["redis"]["lookups"] is None
    assert perf.cache_hit_rate()["redis"]["note"] == "Redis's INFO was not read before and after the load"
    with pytest.raises(perf.PerformanceError, match="cache hits"):
        perf.cache_hit_rate({"hits": [{"metric": {}, "value": "x"}]})


def test_stress_steps_and_outcome():
    assert perf.step_verdict({"p95_ms": 10, "error_rate_percent": 0}, {"p95_ms": 500, "error_rate_percent": 1}) == (True, [])
    assert perf.step_verdict({"p95_ms": 600, "error_rate_percent": None}, {"error_rate_percent": 1, "p95_ms": 500}) == \
        (False, ["p95_ms", "error_rate_percent"])
    assert perf.next_connections(1, 2, 256) == 2
    assert perf.next_connections(3, 1.2, 256) == 4
    assert perf.next_connections(200, 2, 256) is None
    with pytest.raises(perf.PerformanceError):
        perf.next_connections(1, 1, 10)
    steps = [{"connections": 1, "met": True, "broken": [], "throughput_rps": 900.0},
             {"connections": 2, "met": True, "broken": [], "throughput_rps": 1500.0},
             {"connections": 4, "met": False, "broken": ["p95_ms"], "throughput_rps": 1700.0}]
    out = perf.stress_result(steps)
    assert out == {"highest_rate_meeting_sla_rps": 1500.0, "at_connections": 2, "broken_at_connections": 4,
                   "broken_by": ["p95_ms"], "sla_broken": True}
    assert perf.stress_result(steps[2:])["highest_rate_meeting_sla_rps"] is None


def test_render_html_draws_the_series_and_sla_lines_escaped():
    slices = [{"elapsed_seconds": t, "connections": 8, "p50_ms": 1.0, "p95_ms": 2.0 + t, "p99_ms": 6.0, "throughput_rps": 1000.0 * t}
              for t in (1, 2, 3)]
    report = {"mode": "load", "id": "validation-1", "passed": False, "slices": slices, "summary_line": "<b>",
              "kpis": [perf.kpi("p95_ms", 5, 500), perf.kpi("p99_ms", 6, 5), perf.kpi("throughput_rps", 3000, 1000),
                       perf.kpi("cache_hit_rate_percent", None, 85, note="no lookups")],
              "prometheus": {"series": {"p95_ms": [[0, 1.5], [5, 2.5]], "throughput_rps": []}}}
    page = perf.render_html(report)
    assert page.startswith("<!DOCTYPE html>") and "FAILED" in page and "&lt;b&gt;" in page and "<b>" not in page
    assert page.count('class="series"') == 5  # P50 P95 P99 (wrk), P95 (Prometheus), throughput
    assert page.count('class="sla"') == 3  # P95 500 ms, P99 5 ms, throughput 1000
    for label in ("P95 SLA 500 ms", "P99 SLA 5 ms", "throughput SLA 1000 req/s", "not measured", "no lookups"):
        assert label in page
    stress = perf.render_html({"mode": "stress", "passed": True, "steps": slices, "sla": {"p95_ms": 500, "throughput_rps": 1000}})
    assert "connections per service" in stress and stress.count('class="sla"') == 2


class _Handler(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):  # noqa: N802 (http.server's name)
        body = json.dumps({"status": "healthy", "path": self.path}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _server(status):
    handler = type("H%d" % status, (_Handler,), {"status": status})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (Debian's wrk)")
def test_run_slice_with_the_real_wrk_counts_requests_and_errors():
    ok, bad = _server(200), _server(500)
    workdir = tempfile.mkdtemp()
    try:
        script = os.path.join(workdir, "s.lua")
        with open(script, "w") as handle:
            handle.write(perf.lua_script())
        targets = [{"name": "ok", "url": "http://127.0.0.1:%d/" % ok.server_address[1]},
                   {"name": "bad", "url": "http://127.0.0.1:%d/" % bad.server_address[1]}]
        step = perf.run_slice(shutil.which("wrk"), targets, script, 1, 2, 1, 2)
    finally:
        ok.shutdown()
        bad.shutdown()
        shutil.rmtree(workdir)
    assert step["services"]["ok"]["requests"] > 0 and step["services"]["ok"]["failed"] == 0
    assert step["services"]["bad"]["failed"] == step["services"]["bad"]["requests"] > 0
    assert 0 < step["error_rate_percent"] < 100
    assert step["throughput_rps"] > 0 and step["p99_ms"] >= step["p50_ms"] > 0
    assert step["cpu_percent"] is not None and 0 < step["memory_percent"] < 100
    assert step["end"] - step["start"] >= 1


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (Debian's wrk)")
def test_run_slice_names_the_service_wrk_cannot_reach():
    workdir = tempfile.mkdtemp()
    try:
        script = os.path.join(workdir, "s.lua")
        with open(script, "w") as handle:
            handle.write(perf.lua_script())
        step = perf.run_slice(shutil.which("wrk"), [{"name": "gone", "url": "http://127.0.0.1:1/"}], script, 1, 1, 1, 1)
    finally:
        shutil.rmtree(workdir)
    # wrk gives up when it cannot connect: every request an error, the latency unknown (not zero).
    assert step["services"]["gone"]["requests"] == 0 and step["services"]["gone"]["errors"]["connect"] > 0
    assert "unable to connect" in step["services"]["gone"]["unreachable"] and step["unreachable"] == ["gone"]
    assert step["error_rate_percent"] == 100.0 and step["p95_ms"] is None

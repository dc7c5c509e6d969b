# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The performance_kpis, performance_series and performance_html filters."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.filter.performance_cache_hit_rate import performance_cache_hit_rate
from ansible_collections.acgs.platform.plugins.filter.performance_html import performance_html
from ansible_collections.acgs.platform.plugins.filter.performance_kpis import performance_kpis
from ansible_collections.acgs.platform.plugins.filter.performance_series import performance_series


def test_kpis_filter_judges_and_reports_bad_input_as_a_filter_error():
    verdict = performance_kpis({"throughput_rps": {"value": "1200.5"}}, {"throughput_rps": "1000"})
    assert verdict["passed"] is True and verdict["kpis"][0]["measured"] == 1200.5
    with pytest.raises(AnsibleFilterError, match="unknown KPI"):
        performance_kpis({}, {"latency": 1})


def test_series_filter_keeps_the_worst_service_per_time_and_drops_nan():
    data = {"resultType": "matrix", "result": [
        {"metric": {"service": "a"}, "values": [[100, "0.002"], [105, "NaN"], [110, "0.001"]]},
        {"metric": {"service": "b"}, "values": [[100, "0.001"], [105, "0.004"], [110, "+Inf"]]}]}
    assert performance_series(data, 100, 1000) == [[0.0, 2.0], [5.0, 4.0], [10.0, 1.0]]
    assert performance_series({}, 0) == []
    with pytest.raises(AnsibleFilterError):
        performance_series({"result": [{"values": [[1, "x"]]}]}, 0)


def test_html_filter_needs_a_report():
    with pytest.raises(AnsibleFilterError):
        performance_html(["not", "a", "report"])
    assert "<svg" in performance_html({"mode": "load", "slices": [], "kpis": []})


def test_cache_hit_rate_filter_measures_and_reports_bad_input_as_a_filter_error():
    sample = [{"metric": {"service": "ec-service"}, "value": [1, "99"]}]
    measured = performance_cache_hit_rate({"hits": sample, "misses": [{"metric": {"service": "ec-service"}, "value": [1, "1"]}],
                                           "errors": None})
    assert measured["value"] == 99.0 and measured["prometheus"]["services"]["ec-service"]["misses"] == 1
    with pytest.raises(AnsibleFilterError, match="input must be a dict"):
        performance_cache_hit_rate(["hits"])
    with pytest.raises(AnsibleFilterError, match="not a Prometheus vector sample"):
        performance_cache_hit_rate({"misses": [{"value": None}]})

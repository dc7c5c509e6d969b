# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The replica-based canary's arithmetic: replicas per weight, the plan, parameter checks, /metrics windows, readiness."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _canary, _canary_replicas
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError


@pytest.mark.parametrize("weight, total, expected", [
    (10, 2, (1, 1)),     # any weight above 0 gets one canary pod
    (50, 2, (1, 1)),
    (60, 2, (1, 2)),     # stable never below 1 before promotion
    (100, 2, (1, 2)),
    (10, 10, (9, 1)),
    (35, 10, (6, 4)),    # ceil(3.5)
    (100, 10, (1, 10)),
    (0, 4, (4, 0)),
    (25, 1, (1, 1)),
])
def test_replicas_at(weight, total, expected):
    assert _canary_replicas.replicas_at(weight, total) == expected


def test_plan_steps_follow_the_haproxy_plan():
    steps = _canary_replicas.plan_steps(10, 25, 100, 10)
    assert [s["weight"] for s in steps] == _canary.plan_weights(10, 25, 100) == [10, 35, 60, 85, 100]
    assert [(s["stable"], s["canary"]) for s in steps] == [(9, 1), (6, 4), (4, 6), (1, 9), (1, 10)]
    assert [s["effective_weight"] for s in steps] == [10, 40, 60, 90, 91]


def test_effective_weight():
    assert _canary_replicas.effective_weight(1, 1) == 50
    assert _canary_replicas.effective_weight(0, 0) == 0
    assert _canary_replicas.effective_weight(3, 1) == 25


def _params(**changes):
    params = dict(namespace="acgs-production", stable="fv-service", canary="fv-service-canary", replicas=2, port=8080,
                  initial_weight=10, step_weight=25, max_weight=100, interval=5.0, success_threshold=95.0,
                  max_response_time_ms=None, failure_limit=1, min_requests=10, max_extensions=3, timeout=60.0,
                  promote_manifests=[], state="promoted")
    params.update(changes)
    return params


def test_good_parameters_pass():
    _canary_replicas.validate(_params())


@pytest.mark.parametrize("changes, named", [
    ({"namespace": "Acgs"}, "namespace"),
    ({"stable": ""}, "stable"),
    ({"canary": "fv_service"}, "canary"),
    ({"canary": "fv-service"}, "canary"),
    ({"replicas": 0}, "replicas"),
    ({"port": 70000}, "port"),
    ({"timeout": 0}, "timeout"),
    ({"initial_weight": 0}, "initial_weight"),
    ({"step_weight": 101}, "step_weight"),
    ({"interval": 0}, "interval"),
    ({"success_threshold": 101}, "success_threshold"),
    ({"failure_limit": 0}, "failure_limit"),
    ({"min_requests": -1}, "min_requests"),
    ({"promote_manifests": [{"kind": "Deployment"}]}, "promote_manifests[0]"),
])
def test_bad_parameters_are_named(changes, named):
    with pytest.raises(OperatorError) as err:
        _canary_replicas.validate(_params(**changes))
    assert str(err.value).startswith(named + ":")


METRICS = """# HELP acgs_requests_total HTTP requests answered.
# TYPE acgs_requests_total counter
acgs_requests_total{service="fv-service",method="GET",endpoint="/health",status="200"} %d
acgs_requests_total{service="fv-service",method="GET",endpoint="/health",status="500"} %d
acgs_requests_total{service="fv-service",method="GET",endpoint="/metrics",status="200"} 999
# TYPE acgs_errors_total counter
acgs_errors_total{service="fv-service",endpoint="/health"} %d
# TYPE acgs_response_time_seconds histogram
acgs_response_time_seconds_bucket{service="fv-service",endpoint="/health",le="0.001"} 3
acgs_response_time_seconds_sum{service="fv-service",endpoint="/health"} %s
acgs_response_time_seconds_count{service="fv-service",endpoint="/health"} %d
acgs_response_time_seconds_sum{service="fv-service",endpoint="/metrics"} 50.0
acgs_response_time_seconds_count{service="fv-service",endpoint="/metrics"} 999
"""


def _text(ok, failed, seconds):
    return METRICS % (ok, failed, failed, seconds, ok + failed)


def test_parse_leaves_out_the_metrics_endpoint():
    reading = _canary_replicas.parse_metrics(_text(70, 30, "0.2"))
    assert reading == {"requests": 100.0, "errors": 30.0, "seconds": 0.2, "answered": 100.0}


def test_parse_refuses_what_is_not_the_contract():
    with pytest.raises(OperatorError):
        _canary_replicas.parse_metrics("up 1\n")


def test_window_of_several_pods():
    before = {"a": _canary_replicas.parse_metrics(_text(10, 0, "0.01")),
              "b": _canary_replicas.parse_metrics(_text(20, 5, "0.02"))}
    after = {"a": _canary_replicas.parse_metrics(_text(80, 30, "0.12")),
             "b": _canary_replicas.parse_metrics(_text(60, 15, "0.07"))}
    metrics = _canary_replicas.window_metrics(before, after)
    # a: 100 requests, 30 errors; b: 50 requests, 10 errors
    assert metrics["requests"] == 150
    assert metrics["errors"] == 40
    assert metrics["success_rate"] == round(100.0 * 110 / 150, 2)
    assert metrics["response_time_ms"] == 1  # 0.15 s over 150 answers
    verdict, reason = _canary.judge(metrics, 95, None, 10)
    assert verdict == _canary.FAIL and "below success_threshold" in reason


def test_a_restarted_pod_counts_from_zero_and_a_new_pod_from_nothing():
    before = {"a": _canary_replicas.parse_metrics(_text(500, 0, "1.0")), "gone": _canary_replicas.parse_metrics(_text(9, 9, "1"))}
    after = {"a": _canary_replicas.parse_metrics(_text(40, 0, "0.04")), "new": _canary_replicas.parse_metrics(_text(10, 0, "0.01"))}
    metrics = _canary_replicas.window_metrics(before, after)
    assert metrics == {"requests": 50, "errors": 0, "success_rate": 100.0, "response_time_ms": 1}


def test_an_empty_window_is_insufficient():
    reading = _canary_replicas.parse_metrics(_text(5, 0, "0.005"))
    metrics = _canary_replicas.window_metrics({"a": reading}, {"a": reading})
    assert metrics == {"requests": 0, "errors": 0, "success_rate": None, "response_time_ms": None}
    assert _canary.judge(metrics, 95, None, 10)[0] == _canary.INSUFFICIENT


def _deployment(replicas, ready, updated, pods, generation=2, observed=2):
    return {"metadata": {"generation": generation}, "spec": {"replicas": replicas},
            "status": {"observedGeneration": observed, "replicas": pods, "readyReplicas": ready, "updatedReplicas": updated}}


def test_deployment_pending():
    assert _canary_replicas.deployment_pending(_deployment(2, 2, 2, 2), 2) is None
    assert _canary_replicas.deployment_pending(_deployment(2, 1, 2, 2), 2) == "1/2 ready, 2 updated, 2 pods"
    assert _canary_replicas.deployment_pending(_deployment(2, 2, 2, 3), 2) is not None   # an old pod still there
    assert _canary_replicas.deployment_pending(_deployment(2, 2, 2, 2, observed=1), 2) is not None
    assert _canary_replicas.deployment_pending(_deployment(1, 1, 1, 1), 2) is not None  # not scaled yet
    zero = {"metadata": {"generation": 3}, "spec": {"replicas": 0}, "status": {"observedGeneration": 3}}
    assert _canary_replicas.deployment_pending(zero, 0) is None

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The canary's step and decision logic: plan, metrics (show stat counters or Prometheus answers), verdict, next action."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _canary, _prometheus
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.tests.unit.plugins.test_support.fault_servers import free_port


def test_plan_is_the_runbook_steps_clamped_to_max():
    assert _canary.plan_weights(10, 25, 100) == [10, 35, 60, 85, 100]


@pytest.mark.parametrize("initial, step, maximum, expected", [
    (10, 25, 50, [10, 35, 50]),        # Flagger #189: the last step is clamped, never above max
    (10, 30, 100, [10, 40, 70, 100]),
    (10, 45, 100, [10, 55, 100]),
    (50, 50, 100, [50, 100]),
    (100, 25, 100, [100]),
    (10, 100, 100, [10, 100]),
    (5, 1, 8, [5, 6, 7, 8]),
])
def test_plan_never_exceeds_max(initial, step, maximum, expected):
    plan = _canary.plan_weights(initial, step, maximum)
    assert plan == expected
    assert max(plan) == maximum
    assert plan == sorted(set(plan))


def test_next_weight_and_split():
    plan = [10, 35, 60, 85, 100]
    assert _canary.next_weight(plan, 0) == 10
    assert _canary.next_weight(plan, 10) == 35
    assert _canary.next_weight(plan, 20) == 35   # resuming from a weight outside the plan
    assert _canary.next_weight(plan, 100) is None
    assert _canary.split(10) == {"stable": 90, "canary": 10}
    assert _canary.split(100) == {"stable": 0, "canary": 100}


def params(**overrides):
    base = dict(backend="be_auth", stable="blue", canary="green", initial_weight=10, step_weight=25, max_weight=100,
                interval=300.0, success_threshold=95.0, max_response_time_ms=None, failure_limit=1, min_requests=10,
                max_extensions=3, webhooks=[])
    base.update(overrides)
    return base


def test_validate_accepts_defaults():
    _canary.validate(params())
    _canary.validate(params(max_response_time_ms=500.0, success_threshold=0.0, min_requests=0))


@pytest.mark.parametrize("overrides, name", [
    (dict(step_weight=0), "step_weight"),
    (dict(step_weight=-5), "step_weight"),
    (dict(max_weight=101), "max_weight"),
    (dict(max_weight=0), "max_weight"),
    (dict(initial_weight=0), "initial_weight"),
    (dict(initial_weight=60, max_weight=50), "initial_weight"),
    (dict(interval=0.0), "interval"),
    (dict(success_threshold=100.5), "success_threshold"),
    (dict(success_threshold=-1.0), "success_threshold"),
    (dict(max_response_time_ms=0.0), "max_response_time_ms"),
    (dict(failure_limit=0), "failure_limit"),
    (dict(min_requests=-1), "min_requests"),
    (dict(max_extensions=-1), "max_extensions"),
    (dict(backend=""), "backend"),
    (dict(stable="a b"), "stable"),
    (dict(canary="x/y"), "canary"),
    (dict(canary="blue"), "canary"),
    (dict(webhooks=[dict(name="gate", type="pre-rollout", url="ftp://x")]), "webhooks[0].url"),
])
def test_validate_names_the_bad_parameter(overrides, name):
    with pytest.raises(OperatorError) as err:
        _canary.validate(params(**overrides))
    assert str(err.value).startswith(name + ":")


def row(**counters):
    return dict((key, str(value)) for key, value in counters.items())


def test_window_metrics_are_deltas():
    before = row(hrsp_2xx=100, hrsp_4xx=5, hrsp_5xx=2, econ=0, eresp=0, rtime=3)
    after = row(hrsp_2xx=190, hrsp_4xx=7, hrsp_5xx=6, econ=1, eresp=1, rtime=12)
    metrics = _canary.window_metrics(before, after)
    # 90 + 2 + 4 answers, plus 2 connection/response errors; 4xx are not failures
    assert metrics == {"requests": 98, "errors": 6, "success_rate": 93.88, "response_time_ms": 12}


def test_window_metrics_without_requests():
    same = row(hrsp_2xx=10, rtime=4)
    assert _canary.window_metrics(same, same) == {"requests": 0, "errors": 0, "success_rate": None, "response_time_ms": None}
    # counters reset (HAProxy restarted): never negative
    assert _canary.window_metrics(row(hrsp_2xx=50), row(hrsp_2xx=3))["requests"] == 0


def metrics(requests, errors, rtime=5):
    rate = round(100.0 * (requests - errors) / requests, 2) if requests else None
    return {"requests": requests, "errors": errors, "success_rate": rate, "response_time_ms": rtime if requests else None}


def test_judge_thresholds():
    assert _canary.judge(metrics(100, 5), 95, None, 10)[0] == _canary.PASS       # 95 % is enough
    verdict, reason = _canary.judge(metrics(100, 6), 95, None, 10)
    assert verdict == _canary.FAIL and "success_threshold" in reason
    assert _canary.judge(metrics(100, 30), 95, None, 10)[0] == _canary.FAIL
    assert _canary.judge(metrics(100, 100), 0, None, 10)[0] == _canary.PASS


def test_judge_response_time():
    assert _canary.judge(metrics(100, 0, rtime=500), 95, 500, 10)[0] == _canary.PASS
    verdict, reason = _canary.judge(metrics(100, 0, rtime=501), 95, 500, 10)
    assert verdict == _canary.FAIL and "max_response_time_ms" in reason
    assert _canary.judge(metrics(100, 0, rtime=9999), 95, None, 10)[0] == _canary.PASS


def test_judge_min_requests():
    verdict, reason = _canary.judge(metrics(9, 0), 95, None, 10)
    assert verdict == _canary.INSUFFICIENT and "min_requests" in reason
    assert _canary.judge(metrics(10, 0), 95, None, 10)[0] == _canary.PASS
    # no traffic at all is never a success, even with min_requests 0
    assert _canary.judge(metrics(0, 0), 95, None, 0)[0] == _canary.INSUFFICIENT


def test_next_action_failure_limit():
    assert _canary.next_action(_canary.PASS, 0, 0, 1, 3) == (_canary.ADVANCE, 0, 0)
    assert _canary.next_action(_canary.FAIL, 0, 0, 1, 3) == (_canary.ROLLBACK, 1, 0)
    assert _canary.next_action(_canary.FAIL, 0, 0, 3, 3) == (_canary.RETRY, 1, 0)
    assert _canary.next_action(_canary.FAIL, 1, 0, 3, 3) == (_canary.RETRY, 2, 0)
    assert _canary.next_action(_canary.FAIL, 2, 0, 3, 3) == (_canary.ROLLBACK, 3, 0)


def test_next_action_min_requests_extension_is_bounded():
    assert _canary.next_action(_canary.INSUFFICIENT, 0, 0, 1, 2) == (_canary.EXTEND, 0, 1)
    assert _canary.next_action(_canary.INSUFFICIENT, 0, 1, 1, 2) == (_canary.EXTEND, 0, 2)
    # extensions used up: too few requests counts as a failed analysis
    assert _canary.next_action(_canary.INSUFFICIENT, 0, 2, 1, 2) == (_canary.ROLLBACK, 1, 2)
    assert _canary.next_action(_canary.INSUFFICIENT, 0, 0, 2, 0) == (_canary.RETRY, 1, 0)


def test_a_sequence_of_analyses():
    """failure_limit 2, max_extensions 1: quiet, quiet, fail -> rollback on the third analysis."""
    failures = extensions = 0
    actions = []
    for verdict in (_canary.INSUFFICIENT, _canary.INSUFFICIENT, _canary.FAIL):
        action, failures, extensions = _canary.next_action(verdict, failures, extensions, 2, 1)
        actions.append(action)
    assert actions == [_canary.EXTEND, _canary.RETRY, _canary.ROLLBACK]


# -- metrics_source prometheus ------------------------------------------------------------------

def prom_params(**overrides):
    base = params(backend="be_auth-service", stable="auth-service-blue", canary="auth-service-green", interval=30.0,
                  metrics_source="prometheus", prometheus_url="http://127.0.0.1:1", prometheus_timeout=2.0,
                  prometheus_queries={}, service=None)
    base.update(overrides)
    return base


@pytest.mark.parametrize("seconds, duration", [(30.0, "30s"), (300, "300s"), (2.5, "2500ms"), (0.0004, "1ms"), (1, "1s")])
def test_promql_duration(seconds, duration):
    assert _canary.promql_duration(seconds) == duration


def test_default_queries_read_the_canary_servers_haproxy_series():
    queries = _canary.render_queries({}, _canary.query_variables(prom_params()))
    server = 'proxy="be_auth-service",server="auth-service-green"'
    assert queries["requests"] == (
        "sum(increase(haproxy_server_http_responses_total{%s}[30s]))"
        " + sum(increase(haproxy_server_connection_errors_total{%s}[30s]))"
        " + sum(increase(haproxy_server_response_errors_total{%s}[30s]))" % (server, server, server))
    assert queries["errors"] == queries["requests"].replace(server + "}", server + ',code="5xx"}', 1)
    assert queries["response_time"] == "max(haproxy_server_response_time_average_seconds{%s})" % server
    assert "$" not in "".join(queries.values())


def test_query_overrides_and_placeholders():
    overrides = {"requests": 'sum(increase(acgs_requests_total{service="${service}",slot!="${stable}"}[${interval}])) * 1',
                 "response_time": "histogram_quantile(0.95, sum by (le) (rate(x{server=\"${server}\"}[${interval}]))) + $$0"}
    queries = _canary.render_queries(overrides, _canary.query_variables(prom_params(interval=2.5)))
    assert queries["requests"] == 'sum(increase(acgs_requests_total{service="auth-service",slot!="auth-service-blue"}[2500ms])) * 1'
    assert queries["response_time"] == 'histogram_quantile(0.95, sum by (le) (rate(x{server="auth-service-green"}[2500ms]))) + $0'
    # the query not overridden keeps its default
    assert queries["errors"].startswith('sum(increase(haproxy_server_http_responses_total{proxy="be_auth-service"')


def test_service_placeholder_and_label_escaping():
    assert _canary.query_variables(prom_params())["service"] == "auth-service"
    assert _canary.query_variables(prom_params(backend="web"))["service"] == "web"
    assert _canary.query_variables(prom_params(service="auth"))["service"] == "auth"
    assert _canary.query_variables(prom_params(canary='a"b\\c'))["server"] == 'a\\"b\\\\c'


@pytest.mark.parametrize("overrides, message", [
    ({"latency": "x"}, "prometheus_queries: unknown query 'latency'"),
    ({"errors": "  "}, "prometheus_queries.errors: must be a non-empty"),
    ({"errors": 5}, "prometheus_queries.errors: must be a non-empty"),
    ({"requests": "sum(x{pod=\"${pod}\"})"}, "prometheus_queries.requests: unknown placeholder ${pod}"),
    ({"response_time": "x{a=\"${\"}"}, "prometheus_queries.response_time: Invalid placeholder"),
])
def test_bad_query_templates_name_the_query(overrides, message):
    with pytest.raises(OperatorError) as err:
        _canary.render_queries(overrides, _canary.query_variables(prom_params()))
    assert str(err.value).startswith(message)


@pytest.mark.parametrize("overrides, name", [
    (dict(prometheus_url="127.0.0.1:9090"), "prometheus_url"),
    (dict(prometheus_url=None), "prometheus_url"),
    (dict(prometheus_timeout=0.0), "prometheus_timeout"),
    (dict(service=" "), "service"),
    (dict(prometheus_queries={"requests": "${nope}"}), "prometheus_queries.requests"),
])
def test_validate_prometheus_parameters(overrides, name):
    _canary.validate(prom_params())
    with pytest.raises(OperatorError) as err:
        _canary.validate(prom_params(**overrides))
    assert str(err.value).startswith(name + ":")
    # with metrics_source haproxy the prometheus_* parameters are not used
    _canary.validate(prom_params(metrics_source="haproxy", **overrides))


def vector(value):
    """Prometheus's answer to an instant query with one series (as /api/v1/query returns it)."""
    return {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1795846868.158, value]}]}}


EMPTY = {"status": "success", "data": {"resultType": "vector", "result": []}}


def answers_of(requests, errors, response_time):
    return {"requests": _prometheus.single_value(requests), "errors": _prometheus.single_value(errors),
            "response_time": _prometheus.single_value(response_time)}


def test_prometheus_answers_make_the_same_metrics_as_the_counters():
    # the counters of test_window_metrics_are_deltas, as Prometheus answers them (increase extrapolates)
    counted = _canary.window_metrics(row(hrsp_2xx=100, hrsp_4xx=5, hrsp_5xx=2, rtime=3),
                                     row(hrsp_2xx=190, hrsp_4xx=7, hrsp_5xx=6, econ=1, eresp=1, rtime=12))
    metrics, problem = _canary.prometheus_metrics(answers_of(vector("97.6"), vector("6.2"), vector("0.012")), False)
    assert problem is None
    assert metrics == counted == {"requests": 98, "errors": 6, "success_rate": 93.88, "response_time_ms": 12}
    assert _canary.judge(metrics, 95, None, 10) == _canary.judge(counted, 95, None, 10)
    assert _canary.judge(metrics, 95, None, 10)[0] == _canary.FAIL
    assert _canary.judge(metrics, 90, 10, 10)[0] == _canary.FAIL       # 12 ms above 10 ms
    assert _canary.judge(metrics, 90, 20, 10)[0] == _canary.PASS


def test_prometheus_metrics_edges():
    # no traffic in the window: 0 requests is an answer (the step is extended), not a failure to decide
    metrics, problem = _canary.prometheus_metrics(answers_of(vector("0"), vector("0"), vector("0")), True)
    assert problem is None and metrics == {"requests": 0, "errors": 0, "success_rate": None, "response_time_ms": None}
    assert _canary.judge(metrics, 95, None, 10)[0] == _canary.INSUFFICIENT
    # extrapolated errors never exceed requests, never negative
    metrics, _problem = _canary.prometheus_metrics(answers_of(vector("10.4"), vector("11.2"), vector("0.002")), False)
    assert metrics == {"requests": 10, "errors": 10, "success_rate": 0.0, "response_time_ms": 2}
    metrics, _problem = _canary.prometheus_metrics(answers_of(vector("-1"), vector("0"), vector("0.002")), False)
    assert metrics["requests"] == 0
    # a scalar answer is a number too
    scalar = {"status": "success", "data": {"resultType": "scalar", "result": [1795846868.1, "50"]}}
    metrics, _problem = _canary.prometheus_metrics(answers_of(scalar, vector("0"), vector("0.25")), False)
    assert metrics == {"requests": 50, "errors": 0, "success_rate": 100.0, "response_time_ms": 250}


def test_no_data_cannot_decide_and_counts_as_failed():
    metrics, problem = _canary.prometheus_metrics(answers_of(EMPTY, vector("0"), vector("0.001")), False)
    assert metrics == {"requests": None, "errors": None, "success_rate": None, "response_time_ms": None}
    assert problem.startswith("requests query: no data")
    verdict, reason = _canary.undecided(problem)
    assert verdict == _canary.FAIL
    assert reason.startswith("cannot decide: requests query: no data") and "counts as a failed analysis" in reason
    # like any failed analysis: rollback at failure_limit 1, retry below it
    assert _canary.next_action(verdict, 0, 0, 1, 3) == (_canary.ROLLBACK, 1, 0)
    assert _canary.next_action(verdict, 0, 0, 2, 3) == (_canary.RETRY, 1, 0)


def test_response_time_without_data_matters_only_with_a_limit():
    answers = answers_of(vector("100"), vector("0"), vector("NaN"))
    metrics, problem = _canary.prometheus_metrics(answers, False)
    assert problem is None and metrics["requests"] == 100 and metrics["response_time_ms"] is None
    assert _canary.judge(metrics, 95, None, 10)[0] == _canary.PASS
    metrics, problem = _canary.prometheus_metrics(answers, True)
    assert problem.startswith("response_time query: no data")


def test_unreachable_prometheus_cannot_decide():
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    queries = _canary.render_queries({}, _canary.query_variables(prom_params(prometheus_url=url)))
    answers = dict((name, _prometheus.instant_query(url, expr, timeout=2.0)) for name, expr in queries.items())
    metrics, problem = _canary.prometheus_metrics(answers, False)
    assert metrics["requests"] is None
    assert "Prometheus at %s did not answer" % url in problem
    verdict, reason = _canary.undecided(problem)
    assert verdict == _canary.FAIL and reason.startswith("cannot decide: requests query: Prometheus at")


class FakeRollout(object):
    """What _canary.drive needs of a rollout; records what it was asked to do."""

    def __init__(self, run=None, restore_error=None):
        self.calls = []
        self._run = run
        self._restore_error = restore_error

    def run(self, plan):
        self.calls.append(("run", plan))
        return self._run()

    def rollback(self):
        self.calls.append(("rollback",))

    def restore(self):
        self.calls.append(("restore",))
        if self._restore_error:
            raise OperatorError(self._restore_error)


def drive(rollout, state="promoted"):
    return _canary.drive(rollout, state, [{"weight": 50}], on_request="asked", put_back="all back", what="weights")


def test_drive_reports_the_run_and_restores_only_when_it_is_cut_short():
    assert drive(FakeRollout(run=lambda: ("promoted", "ok"))) == ("promoted", "ok", False)
    assert drive(FakeRollout(run=lambda: ("failed", "analysis broke"))) == ("failed", "analysis broke", True)
    rollout = FakeRollout()
    assert drive(rollout, state="rolled_back") == ("rolled_back", "asked", False)
    assert rollout.calls == [("rollback",)]

    def refused():
        raise OperatorError("HAProxy refused")

    rollout = FakeRollout(run=refused)
    assert drive(rollout) == ("rolled_back", "HAProxy refused: all back", True)
    assert rollout.calls == [("run", [{"weight": 50}]), ("restore",)]
    assert drive(FakeRollout(run=refused, restore_error="socket gone")) == (
        "failed", "HAProxy refused; putting the weights back failed too: socket gone", True)

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the step and decision logic of a canary rollout (pure functions).

The weight plan (clamped to the maximum, Flagger issue #189), the metrics of one
analysis window from two ``show stat`` rows or from the numbers Prometheus answered
to the rendered query templates, the verdict of an analysis and what the rollout
does next. Nothing here talks to HAProxy or Prometheus or sleeps. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import string

from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.plugins.module_utils._haproxy_runtime import RESPONSE_CODES, counter
from ansible_collections.acgs.platform.plugins.module_utils._signals import run_or_restore

PASS = "pass"
FAIL = "fail"
INSUFFICIENT = "insufficient"

ADVANCE = "advance"    # the analysis passed: next weight (or promotion after the last)
RETRY = "retry"        # failed, below failure_limit: analyse again at the same weight
EXTEND = "extend"      # too few requests: analyse again at the same weight
ROLLBACK = "rollback"  # failure_limit reached: all traffic back on stable now

WEIGHT_MAX = 100

# metrics_source prometheus: PromQL templates (Flagger's MetricTemplate), placeholders filled
# with string.Template: ${backend}, ${server} (the canary server), ${stable}, ${service} and
# ${interval} (the analysis window as a PromQL duration). The defaults read the per-server
# series of HAProxy's built-in exporter, the same counters as metrics_source haproxy: requests
# are responses of every class plus connection and response errors, errors are 5xx plus those
# errors, response_time is HAProxy's rtime (average of the last 1024 requests) in seconds.
PROMETHEUS_QUERY_NAMES = ("requests", "errors", "response_time")
PLACEHOLDERS = ("backend", "server", "stable", "service", "interval")
_SERVER = 'proxy="${backend}",server="${server}"'
_FAILED = (" + sum(increase(haproxy_server_connection_errors_total{%s}[${interval}]))"
           " + sum(increase(haproxy_server_response_errors_total{%s}[${interval}]))") % (_SERVER, _SERVER)
DEFAULT_PROMETHEUS_QUERIES = {
    "requests": "sum(increase(haproxy_server_http_responses_total{%s}[${interval}]))%s" % (_SERVER, _FAILED),
    "errors": 'sum(increase(haproxy_server_http_responses_total{%s,code="5xx"}[${interval}]))%s' % (_SERVER, _FAILED),
    "response_time": "max(haproxy_server_response_time_average_seconds{%s})" % _SERVER,
}


def plan_weights(initial_weight, step_weight, max_weight):
    """The canary weights of a rollout: initial, +step, ..., the last one clamped to max (never above)."""
    weights = []
    weight = min(initial_weight, max_weight)
    while weight < max_weight:
        weights.append(weight)
        weight += step_weight
    weights.append(max_weight)
    return weights


def next_weight(plan, current):
    """The first planned weight above ``current``, or None after the last."""
    for weight in plan:
        if weight > current:
            return weight
    return None


def split(canary_weight):
    """{stable, canary}: HAProxy weights for a canary share of ``canary_weight`` percent."""
    return {"stable": WEIGHT_MAX - canary_weight, "canary": canary_weight}


def validate(params):
    """Raises OperatorError naming the first bad parameter."""
    for name in ("backend", "stable", "canary"):
        value = params.get(name)
        if not value or any(ch in value for ch in " /;\r\n\t"):
            raise OperatorError("%s: must be a non-empty HAProxy name without spaces, '/' or ';', got %r" % (name, value))
    if params["stable"] == params["canary"]:
        raise OperatorError("canary: must differ from stable (both are %r)" % params["stable"])
    if not 0 < params["step_weight"] <= WEIGHT_MAX:
        raise OperatorError("step_weight: must be in 1..100, got %s" % params["step_weight"])
    if not 0 < params["max_weight"] <= WEIGHT_MAX:
        raise OperatorError("max_weight: must be in 1..100, got %s" % params["max_weight"])
    if not 0 < params["initial_weight"] <= params["max_weight"]:
        raise OperatorError("initial_weight: must be in 1..max_weight (%s), got %s"
                            % (params["max_weight"], params["initial_weight"]))
    if not params["interval"] > 0:
        raise OperatorError("interval: must be more than 0 seconds, got %s" % params["interval"])
    if not 0 <= params["success_threshold"] <= 100:
        raise OperatorError("success_threshold: must be a percentage in 0..100, got %s" % params["success_threshold"])
    limit = params.get("max_response_time_ms")
    if limit is not None and not limit > 0:
        raise OperatorError("max_response_time_ms: must be more than 0, got %s" % limit)
    if params["failure_limit"] < 1:
        raise OperatorError("failure_limit: must be at least 1, got %s" % params["failure_limit"])
    if params["min_requests"] < 0:
        raise OperatorError("min_requests: must be 0 or more, got %s" % params["min_requests"])
    if params["max_extensions"] < 0:
        raise OperatorError("max_extensions: must be 0 or more, got %s" % params["max_extensions"])
    if params.get("metrics_source") == "prometheus":
        url = params.get("prometheus_url") or ""
        if not (url.startswith("http://") or url.startswith("https://")):
            raise OperatorError("prometheus_url: must be an http:// or https:// URL, got %r" % (url,))
        if not params["prometheus_timeout"] > 0:
            raise OperatorError("prometheus_timeout: must be more than 0 seconds, got %s" % params["prometheus_timeout"])
        if params.get("service") is not None and not params["service"].strip():
            raise OperatorError("service: must not be empty")
        render_queries(params.get("prometheus_queries"), query_variables(params))
    for index, hook in enumerate(params.get("webhooks") or []):
        url = hook.get("url") or ""
        if not (url.startswith("http://") or url.startswith("https://")):
            raise OperatorError("webhooks[%d].url: must be an http:// or https:// URL, got %r" % (index, url))


def window_metrics(before, after):
    """Metrics of one server between two ``show stat`` rows (the analysis window).

    requests: responses of every class plus connection and response errors; errors: 5xx
    plus connection and response errors; success_rate in percent (None without
    requests); response_time_ms: HAProxy's ``rtime`` (average over the server's last
    1024 requests, ms) at the end of the window (None without requests).
    """
    def delta(name):
        return max(0, counter(after, name) - counter(before, name))

    failures = delta("econ") + delta("eresp")
    requests = sum(delta(name) for name in RESPONSE_CODES) + failures
    errors = delta("hrsp_5xx") + failures
    rate = round(100.0 * (requests - errors) / requests, 2) if requests else None
    rtime = counter(after, "rtime") if requests else None
    return {"requests": requests, "errors": errors, "success_rate": rate, "response_time_ms": rtime}


def promql_duration(seconds):
    """A PromQL duration for ``seconds``: 30s, or 1500ms when not whole seconds."""
    millis = max(1, int(round(float(seconds) * 1000)))
    if millis % 1000 == 0:
        return "%ds" % (millis // 1000)
    return "%dms" % millis


def _label_value(text):
    """``text`` fit inside a PromQL double-quoted label value."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def query_variables(params):
    """The placeholders' values: backend, server (the canary), stable, service and interval.

    service is the ``service`` parameter, else the backend without a leading ``be_``
    (the collection's HAProxy backends are ``be_<service>``).
    """
    backend = params["backend"] or ""
    service = params.get("service") or (backend[3:] if backend.startswith("be_") else backend)
    return {"backend": _label_value(backend), "server": _label_value(params["canary"] or ""),
            "stable": _label_value(params["stable"] or ""), "service": _label_value(service),
            "interval": promql_duration(params["interval"])}


def render_queries(overrides, variables):
    """{requests, errors, response_time: PromQL}: the defaults, overridden by ``overrides``, filled in.

    Raises OperatorError naming ``prometheus_queries`` (or the query) for an unknown
    query name, an empty template or an unknown or malformed placeholder.
    """
    templates = dict(DEFAULT_PROMETHEUS_QUERIES)
    for name in sorted(overrides or {}):
        if name not in PROMETHEUS_QUERY_NAMES:
            raise OperatorError("prometheus_queries: unknown query %r; the queries are %s" % (name, ", ".join(PROMETHEUS_QUERY_NAMES)))
        template = overrides[name]
        if not isinstance(template, str) or not template.strip():
            raise OperatorError("prometheus_queries.%s: must be a non-empty PromQL template, got %r" % (name, template))
        templates[name] = template
    known = ", ".join("${%s}" % key for key in PLACEHOLDERS)
    rendered = {}
    for name in PROMETHEUS_QUERY_NAMES:
        try:
            rendered[name] = string.Template(templates[name]).substitute(variables)
        except KeyError as err:
            raise OperatorError("prometheus_queries.%s: unknown placeholder ${%s}; the placeholders are %s"
                                % (name, err.args[0], known))
        except ValueError as err:
            raise OperatorError("prometheus_queries.%s: %s (write $$ for a literal $; the placeholders are %s)"
                                % (name, err, known))
    return rendered


def prometheus_metrics(answers, response_time_needed):
    """(metrics, problem) of one analysis window from the Prometheus answers.

    ``answers`` maps requests, errors and response_time to (value, error) as
    _prometheus.instant_query returns them. The metrics are those window_metrics gives
    for HAProxy's counters: requests and errors rounded to whole requests (``increase``
    extrapolates), errors never more than requests, success_rate in percent (None
    without requests), response_time_ms from seconds (None without requests). A
    requests or errors query that failed or had no data - or the response_time query
    when ``response_time_needed`` (max_response_time_ms is set) - is a problem: the
    analysis cannot decide (``problem`` says why, metrics are all None).
    """
    problems = []
    for name in PROMETHEUS_QUERY_NAMES:
        value, error = answers.get(name, (None, "not asked"))
        if error and (name != "response_time" or response_time_needed):
            problems.append("%s query: %s" % (name, error))
    if problems:
        return {"requests": None, "errors": None, "success_rate": None, "response_time_ms": None}, "; ".join(problems)
    requests = int(round(max(0.0, answers["requests"][0])))
    errors = min(requests, int(round(max(0.0, answers["errors"][0]))))
    rate = round(100.0 * (requests - errors) / requests, 2) if requests else None
    seconds = answers.get("response_time", (None, None))[0]
    rtime = int(round(max(0.0, seconds) * 1000)) if requests and seconds is not None else None
    return {"requests": requests, "errors": errors, "success_rate": rate, "response_time_ms": rtime}, None


def undecided(problem):
    """(FAIL, reason) of an analysis that cannot decide (Prometheus unreachable, no data)."""
    return FAIL, ("cannot decide: %s; an analysis that cannot decide counts as a failed analysis "
                  "(as Flagger's failed checks)" % problem)


def judge(metrics, success_threshold, max_response_time_ms, min_requests):
    """(verdict, reason) of one analysis: pass, fail or insufficient (too few requests)."""
    requests = metrics["requests"]
    if requests < max(min_requests, 1):
        return INSUFFICIENT, "%d requests, fewer than min_requests %d" % (requests, max(min_requests, 1))
    if metrics["success_rate"] < success_threshold:
        return FAIL, "success rate %s%% below success_threshold %s%% (%d errors in %d requests)" % (
            metrics["success_rate"], success_threshold, metrics["errors"], requests)
    if max_response_time_ms is not None and metrics["response_time_ms"] is not None \
            and metrics["response_time_ms"] > max_response_time_ms:
        return FAIL, "response time %s ms above max_response_time_ms %s ms" % (
            metrics["response_time_ms"], max_response_time_ms)
    return PASS, "success rate %s%%, response time %s ms" % (metrics["success_rate"], metrics["response_time_ms"])


def next_action(verdict, failures, extensions, failure_limit, max_extensions):
    """(action, failures, extensions) after one analysis at a weight.

    A failed analysis counts towards failure_limit (Flagger's threshold); too few
    requests extends the step, at most max_extensions times, then counts as a failure.
    """
    if verdict == PASS:
        return ADVANCE, failures, extensions
    if verdict == INSUFFICIENT and extensions < max_extensions:
        return EXTEND, failures, extensions + 1
    failures += 1
    if failures >= failure_limit:
        return ROLLBACK, failures, extensions
    return RETRY, failures, extensions


def drive(rollout, state, plan, on_request, put_back, what):
    """Run a canary ``rollout`` (its ``run(plan)``, or ``rollback()`` when ``state`` is rolled_back) under
    run_or_restore: a cancel or a failure calls ``rollout.restore()``. Returns (outcome, reason, failed).

    ``on_request``: the reason of a rollback asked for; ``put_back``: what a restore puts back, for
    the reason; ``what``: the word for it when putting back fails too (weights, replicas)."""
    def work():
        if state == "rolled_back":
            rollout.rollback()
            return "rolled_back", on_request
        return rollout.run(plan)

    ran, cause, again = run_or_restore(work, rollout.restore)
    if cause is None:
        return ran[0], ran[1], ran[0] == "failed"
    if again is None:
        return "rolled_back", "%s: %s" % (cause, put_back), True
    return "failed", "%s; putting the %s back failed too: %s" % (cause, what, again), True

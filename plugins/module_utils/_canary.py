# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the step and decision logic of a canary rollout (pure functions).

The weight plan (clamped to the maximum, Flagger issue #189), the metrics of one
analysis window from two ``show stat`` rows, the verdict of an analysis and what
the rollout does next. Nothing here talks to HAProxy or sleeps. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.plugins.module_utils._haproxy_runtime import RESPONSE_CODES, counter

PASS = "pass"
FAIL = "fail"
INSUFFICIENT = "insufficient"

ADVANCE = "advance"    # the analysis passed: next weight (or promotion after the last)
RETRY = "retry"        # failed, below failure_limit: analyse again at the same weight
EXTEND = "extend"      # too few requests: analyse again at the same weight
ROLLBACK = "rollback"  # failure_limit reached: all traffic back on stable now

WEIGHT_MAX = 100


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

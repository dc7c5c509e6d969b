# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: a small client of Prometheus's HTTP API (instant queries).

``instant_query`` asks ``/api/v1/query`` once, with a bounded timeout, and never
raises: it returns the one number the expression answered, or None and why not
(Prometheus unreachable, an error answer, no data, several series, NaN), in words
an operator understands. ``single_value`` is the pure part, for the answer's JSON.
Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from urllib.parse import urlencode

from ansible_collections.acgs.platform.plugins.module_utils._http import http_get, join_url

QUERY_PATH = "/api/v1/query"


def query_url(base_url, expr, at=None):
    """The URL of an instant query of ``expr`` (evaluated at unix time ``at``, or now)."""
    params = [("query", expr)]
    if at is not None:
        params.append(("time", "%.3f" % at))
    return join_url(base_url, QUERY_PATH) + "?" + urlencode(params)


def _number(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) or math.isinf(value) else value


def single_value(answer):
    """(value, error) for the JSON answer of an instant query.

    A vector must hold exactly one series (wrap the expression in ``sum()`` or ``max()``);
    a scalar is its number. No series, NaN or an infinite value is no value (as Flagger's
    "no values found"): the error says so.
    """
    if not isinstance(answer, dict):
        return None, "the answer is not a JSON object"
    if answer.get("status") != "success":
        return None, "Prometheus answered %s: %s" % (answer.get("errorType") or "an error", answer.get("error") or answer)
    data = answer.get("data") or {}
    kind = data.get("resultType")
    result = data.get("result")
    if kind == "scalar":
        sample = result
    elif kind == "vector":
        if not result:
            return None, "no data (the query matched no series)"
        if len(result) > 1:
            labels = [series.get("metric") or {} for series in result[:3]]
            return None, "%d series, not one (aggregate the query, for example with sum() or max()): %s" % (
                len(result), labels)
        sample = result[0].get("value")
    else:
        return None, "a %s result, not a vector or a scalar" % (kind or "missing")
    if not isinstance(sample, list) or len(sample) != 2:
        return None, "a sample without a value: %r" % (sample,)
    value = _number(sample[1])
    if value is None:
        return None, "no data (the value is %s)" % sample[1]
    return value, None


def ask(base_url, expr, at=None, timeout=10.0, validate_certs=True):
    """(answer, error): the parsed JSON answer of an instant query, or None and why not; never raises."""
    answer = http_get(query_url(base_url, expr, at), {"timeout": timeout, "validate_certs": validate_certs})
    if answer.status is None:
        return None, "Prometheus at %s did not answer: %s" % (base_url, answer.error)
    data, error = answer.json()
    if error:
        return None, "Prometheus at %s answered HTTP %d: %s" % (base_url, answer.status, error)
    if not isinstance(data, dict):
        return None, "Prometheus at %s answered HTTP %d with JSON that is not an object" % (base_url, answer.status)
    return data, None


def instant_query(base_url, expr, at=None, timeout=10.0, validate_certs=True):
    """(value, error): the one number ``expr`` answers at ``at``; never raises."""
    answer, error = ask(base_url, expr, at, timeout, validate_certs)
    if error:
        return None, error
    return single_value(answer)


def preflight(base_url, queries, timeout=10.0, validate_certs=True):
    """None when Prometheus is online (it evaluates ``vector(1)``, Flagger's IsOnline) and accepts
    every expression of ``queries`` ({name: expr}); else (name, why): name None when Prometheus
    itself is the problem. An expression without data passes (the canary may have no series yet)."""
    value, error = instant_query(base_url, "vector(1)", timeout=timeout, validate_certs=validate_certs)
    if error:
        return None, error
    if value != 1:
        return None, "Prometheus at %s answered %s to vector(1)" % (base_url, value)
    for name in sorted(queries):
        answer, error = ask(base_url, queries[name], timeout=timeout, validate_certs=validate_certs)
        if error:
            return None, error
        if answer.get("status") != "success":
            return name, "Prometheus refused the query (%s: %s)" % (answer.get("errorType") or "error", answer.get("error"))
    return None

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: performance_series
author: ACGS Operations Team (@acgs)
version_added: 0.1.0
short_description: A Prometheus range query's answer as points of seconds since a start
description:
  - Turns the C(data) of Prometheus's C(/api/v1/query_range) answer for an expression with one series into
    C([[seconds since start, value * scale], ...]), leaving out NaN and infinite values.
  - An answer with several series keeps, per timestamp, the highest value (the worst service).
positional: start, scale
options:
  _input:
    description: The C(data) object of the answer (C(resultType) V(matrix), C(result)).
    type: dict
    required: true
  start:
    description: Epoch seconds the points are counted from.
    type: float
    required: true
  scale:
    description: Factor every value is multiplied by (1000 for seconds to milliseconds).
    type: float
    default: 1
"""

EXAMPLES = r"""
- name: P95 in milliseconds since the load started
  ansible.builtin.set_fact:
    p95: "{{ answer.json.data | acgs.platform.performance_series(started_at, 1000) }}"
"""

RETURN = r"""
_value:
  description: The points, sorted by time.
  type: list
  elements: list
"""

import math

from ansible.errors import AnsibleFilterError


def performance_series(data, start, scale=1):
    try:
        start = float(start)
        scale = float(scale)
        worst = {}
        for series in (data or {}).get("result") or []:
            for stamp, value in series.get("values") or []:
                number = float(value)
                if math.isnan(number) or math.isinf(number):
                    continue
                key = round(float(stamp) - start, 3)
                worst[key] = max(worst.get(key, number * scale), number * scale)
        return [[key, round(worst[key], 3)] for key in sorted(worst)]
    except (AttributeError, TypeError, ValueError) as exc:
        raise AnsibleFilterError("acgs.platform.performance_series: not a Prometheus matrix answer: %s" % exc)


class FilterModule(object):

    def filters(self):
        return {"performance_series": performance_series}

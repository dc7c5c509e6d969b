# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: maintenance_trend
author: ACGS Operations Team (@acgs)
version_added: 0.1.0
short_description: A linear trend through a Prometheus range query and the days until it reaches a limit
description:
  - For each series of a Prometheus C(query_range) result, a least-squares line through its samples; its growth per
    day and, when it grows towards O(limit), the days from the last sample until the line reaches it.
  - A series with fewer than O(min_points) samples, or spanning less than O(min_span_seconds), has V(no trend).
  - The maintenance role's monthly capacity review calls it.
positional: limit, min_points, min_span_seconds, what
options:
  _input:
    description: Prometheus's C(data.result) of a C(query_range), a list of C({metric, values}).
    type: list
    elements: dict
    required: true
  limit:
    description: The value that must not be reached (null - no limit, growth only).
    type: float
  min_points:
    description: Fewest samples a trend is drawn from.
    type: int
    default: 10
  min_span_seconds:
    description: Shortest time the samples must span.
    type: float
    default: 86400
  what:
    description: The query's name, in error messages.
    type: str
    default: series
"""

EXAMPLES = r"""
- name: Days until the disk is 90 % full
  ansible.builtin.set_fact:
    disk: "{{ prometheus_answer.json.data.result | acgs.platform.maintenance_trend(90, 10, 86400, 'disk_used_percent') }}"
"""

RETURN = r"""
_value:
  description: One entry per series.
  type: list
  elements: dict
  contains:
    labels:
      description: The series' labels.
      type: dict
    current:
      description: The last sample's value.
      type: float
    per_day:
      description: Growth per day of the fitted line (null - no trend).
      type: float
    days_to_limit:
      description: Days until the line reaches O(limit) (0 - already there; null - no trend, no limit or not growing).
      type: float
    trend:
      description: V(growing), V(shrinking), V(flat) or V(no trend).
      type: str
    verdict:
      description: The above in words.
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.module_utils._maintenance import MaintenanceError, trend


def maintenance_trend(result, limit=None, min_points=10, min_span_seconds=86400, what="series"):
    try:
        return trend(result, limit, min_points, min_span_seconds, what)
    except MaintenanceError as exc:
        raise AnsibleFilterError("acgs.platform.maintenance_trend: %s" % exc)


class FilterModule(object):

    def filters(self):
        return {"maintenance_trend": maintenance_trend}

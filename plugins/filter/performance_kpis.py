# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: performance_kpis
author: ACGS Operations Team (@acgs)
version_added: 0.1.0
short_description: The runbook's performance KPIs judged - measured value, threshold and verdict of each
description:
  - Judges each KPI of O(thresholds) against its measurement - V(throughput_rps) (above), V(p95_ms), V(p99_ms),
    V(error_rate_percent), V(cpu_percent), V(memory_percent), V(db_pool_percent) (below),
    V(cache_hit_rate_percent) (above), V(compliance_percent) (at least).
  - A KPI whose measurement is missing or null is V(not measured), with the measurement's C(note) saying why; it is
    never a pass and is listed in C(not_measured). The verdict C(passed) is true when no KPI failed.
positional: thresholds
options:
  _input:
    description:
      - The measurements, KPI name to C({value, source, note}) (or a bare value); C(value) null when it could not be
        measured.
    type: dict
    required: true
  thresholds:
    description: KPI name to threshold (the runbook's values are in C(acgs_performance_thresholds)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Judge the run
  ansible.builtin.set_fact:
    verdict: "{{ {'throughput_rps': {'value': 2400.5, 'source': 'wrk'}, 'cache_hit_rate_percent': {'value': none, 'note': 'no lookups'}}
      | acgs.platform.performance_kpis({'throughput_rps': 1000, 'cache_hit_rate_percent': 85}) }}"
"""

RETURN = r"""
_value:
  description: The verdict.
  type: dict
  contains:
    kpis:
      description:
        - One per threshold, in the runbook's order - C(name), C(title), C(unit), C(comparison) (V(lt), V(gt), V(gte)),
          C(threshold), C(measured) (null when not measured), C(passed) (null when not measured), C(status) (V(passed),
          V(failed), V(not measured)), C(source), C(note).
      type: list
      elements: dict
    passed:
      description: True when no KPI failed.
      type: bool
    failed:
      description: Names of the KPIs that failed.
      type: list
      elements: str
    not_measured:
      description: Names of the KPIs that could not be measured.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.module_utils._performance import PerformanceError, evaluate


def performance_kpis(measurements, thresholds):
    try:
        return evaluate(measurements, thresholds)
    except PerformanceError as exc:
        raise AnsibleFilterError("acgs.platform.performance_kpis: %s" % exc)


class FilterModule(object):

    def filters(self):
        return {"performance_kpis": performance_kpis}

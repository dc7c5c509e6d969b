# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: performance_cache_hit_rate
author: ACGS Operations Team (@acgs)
version_added: 0.1.0
short_description: The Redis cache hit rate of a performance run, from the services' counters or Redis's
description:
  - Measures the runbook's cache hit rate KPI of a load run from the services' own counters read from Prometheus
    (the increase over the run of C(acgs_cache_hits_total), C(acgs_cache_misses_total) and the failed lookups of
    C(acgs_cache_errors_total)) as hits / (hits + misses + failed lookups), so that a cache Redis cannot serve lowers the rate.
  - Redis's C(INFO) counters (C(keyspace_hits), C(keyspace_misses)) before and after the load are reported beside it,
    and are the measurement only when no service exports the counters (they count every client's key lookups).
  - Neither with a lookup gives C(value) null and a C(note) saying why (the KPI is then V(not measured)).
positional: redis_before, redis_after
options:
  _input:
    description:
      - C(hits), C(misses), C(errors) - each the C(result) of a Prometheus instant query (a vector, one sample per
        C(service) label) of the counter's increase over the run; a missing or null entry is no series.
    type: dict
    required: true
  redis_before:
    description: Redis INFO fields (C(keyspace_hits), C(keyspace_misses)) before the load, as acgs_health reports them.
    type: dict
  redis_after:
    description: The same after the load.
    type: dict
"""

EXAMPLES = r"""
- name: The cache hit rate of the run
  ansible.builtin.set_fact:
    cache: "{{ {'hits': hits.json.data.result, 'misses': misses.json.data.result, 'errors': errors.json.data.result}
      | acgs.platform.performance_cache_hit_rate(redis_before, redis_after) }}"
"""

RETURN = r"""
_value:
  description: The measurement, in the shape acgs.platform.performance_kpis takes, with both sources.
  type: dict
  contains:
    value:
      description: The hit rate in percent, null when not measured.
      type: float
    source:
      description: How it was measured, with the counts and each service's rate.
      type: str
    note:
      description: Why it was not measured, or what to know about the source.
      type: str
    prometheus:
      description: C(hits), C(misses), C(errors), C(lookups), C(hit_rate_percent) of all services and C(services) (each service's).
      type: dict
    redis:
      description: C(hits), C(misses), C(lookups), C(hit_rate_percent) from Redis's INFO (null when unusable, C(note) says why).
      type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.module_utils._performance import PerformanceError, cache_hit_rate


def performance_cache_hit_rate(prometheus, redis_before=None, redis_after=None):
    if prometheus is not None and not isinstance(prometheus, dict):
        raise AnsibleFilterError("acgs.platform.performance_cache_hit_rate: the input must be a dict of hits, misses and errors, got %s"
                                 % type(prometheus).__name__)
    try:
        return cache_hit_rate(prometheus, redis_before, redis_after)
    except PerformanceError as exc:
        raise AnsibleFilterError("acgs.platform.performance_cache_hit_rate: %s" % exc)


class FilterModule(object):

    def filters(self):
        return {"performance_cache_hit_rate": performance_cache_hit_rate}

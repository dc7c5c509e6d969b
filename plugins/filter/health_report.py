# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: health_report
author: ACGS Operations Team (@acgs)
version_added: 0.1.0
short_description: The ACGS platform status and summary table from the health and hash checks
description:
  - Combines the registered results of M(acgs.platform.acgs_health) and M(acgs.platform.acgs_hash_check) into the
    platform status and the runbook's summary table.
  - The platform is V(critical) when the health check is critical or a service reports a constitutional hash that
    differs from the expected one; V(degraded) when the health check is degraded or a hash is missing; V(healthy)
    otherwise.
  - Every row of the table and every reason names the URL or address probed.
positional: hash_result
options:
  _input:
    description: The registered result of M(acgs.platform.acgs_health).
    type: dict
    required: true
  hash_result:
    description:
      - The registered result of M(acgs.platform.acgs_hash_check).
      - Without it the status and the table come from the health check alone, without the HASH column.
    type: dict
"""

EXAMPLES = r"""
- name: Decide the platform status and print the summary
  vars:
    report: "{{ acgs_health_result | acgs.platform.health_report(acgs_hash_result) }}"
  block:
    - name: Summary
      ansible.builtin.debug:
        msg: "{{ report.lines }}"

    - name: Fail when the platform is critical
      ansible.builtin.fail:
        msg: "ACGS platform is CRITICAL: {{ report.reasons | join('; ') }}"
      when: report.status == 'critical'
"""

RETURN = r"""
_value:
  description: The platform status, the summary as text lines, and why the platform is not healthy.
  type: dict
  contains:
    status:
      description: V(healthy), V(degraded) or V(critical).
      type: str
      sample: healthy
    lines:
      description:
        - The verdict line, the table of services (name, criticality, status, HTTP status, latency, version, hash, URL)
          and of dependencies (name, type, status, latency, address, details), then the reasons, each starting with C(!).
      type: list
      elements: str
      sample:
        - "ACGS platform: HEALTHY   services 7/7 healthy, dependencies 3/3 healthy, constitutional compliance 100.0% (215 ms)"
    reasons:
      description: Why the platform is not healthy - the health check's reasons, then the hash problems.
      type: list
      elements: str
      sample: ["constitutional hash of ec-service at http://127.0.0.1:8006/api/v1/compliance/status: hash 0000000000000000 from
        compliance_endpoint does not match the expected cdd01ef066bc6cf2"]
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.module_utils._health_report import report


def health_report(health_result, hash_result=None):
    try:
        return report(health_result, hash_result)
    except ValueError as exc:
        raise AnsibleFilterError("acgs.platform.health_report: %s" % exc)


class FilterModule(object):

    def filters(self):
        return {"health_report": health_report}

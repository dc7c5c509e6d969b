# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: security_report
author: ACGS Operations Team (@acgs)
version_added: 0.1.0
short_description: The ACGS security scan's report from the findings of its checks
description:
  - Sums the findings of every check (P(acgs.platform.security_findings#filter)) into the report the deploy gate reads,
    C({generated_at, host, findings, summary, passed}), worst finding first.
  - C(passed) is false when a finding is at least O(fail_on).
  - An id that repeats (Lynis names a test once per line) gets C(#2), C(#3).
positional: host, fail_on, generated_at, not_run
options:
  _input:
    description: Check name to its findings (P(acgs.platform.security_findings#filter)), for the checks that ran.
    type: dict
    required: true
  host:
    description: The host scanned.
    type: str
    required: true
  fail_on:
    description: The least severity that fails the scan.
    type: str
    required: true
    choices: [low, medium, high, critical]
  generated_at:
    description: When the scan ended, ISO 8601.
    type: str
    required: true
  not_run:
    description: Checks that were not selected, named in the summary.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Sum up the findings
  ansible.builtin.set_fact:
    scan: "{{ {'redis': redis_findings} | acgs.platform.security_report(inventory_hostname, 'high', now(utc=true).isoformat(), ['lynis']) }}"

- name: Print it
  ansible.builtin.debug:
    msg: "{{ scan.lines }}"
"""

RETURN = r"""
_value:
  description: The report, the findings that fail the scan and the summary as text.
  type: dict
  contains:
    report:
      description: The report, C(generated_at), C(host), C(findings), C(summary) (count per severity) and C(passed).
      type: dict
    blocking:
      description: The findings at or above O(fail_on).
      type: list
      elements: dict
    lines:
      description: The verdict with the counts, one line per check (V(ok), its counts or V(not run)), then one per finding.
      type: list
      elements: str
      sample:
        - "ACGS security scan of localhost: PASSED (fails on high or worse)   critical 0, high 0, medium 1, low 3, info 0"
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.module_utils._security import SecurityError, report


def security_report(checks, host, fail_on, generated_at, not_run=None):
    try:
        return report(checks, host, fail_on, generated_at, not_run)
    except SecurityError as exc:
        raise AnsibleFilterError("acgs.platform.security_report: %s" % exc)


class FilterModule(object):

    def filters(self):
        return {"security_report": security_report}

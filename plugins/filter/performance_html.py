# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: performance_html
author: ACGS Operations Team (@acgs)
version_added: 0.1.0
short_description: The picture of a performance report - a self-contained HTML page with SVG charts
description:
  - Draws a validation report (latency percentiles and throughput over the seconds of the run) or a stress report
    (the same over the connections of each step) as inline SVG line charts with the SLA lines dashed, then the KPI
    table. No script, no external file, no library - any browser shows it.
  - Latency is on a log scale, so that P99's 5 ms and P95's 500 ms lines both show. Series from C(wrk) are the worst
    service's per slice; when the report has Prometheus series (C(prometheus.series)) they are drawn beside them.
options:
  _input:
    description: The report (C(mode), C(id), C(passed), C(slices) or C(steps), C(kpis) or C(sla), C(prometheus)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Write the picture beside the report
  ansible.builtin.copy:
    dest: /var/lib/acgs-results/performance/validation-1764265000.html
    content: "{{ report | acgs.platform.performance_html }}"
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The HTML page.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.module_utils._performance import render_html


def performance_html(report):
    if not isinstance(report, dict):
        raise AnsibleFilterError("acgs.platform.performance_html: the report must be a dict, got %s" % type(report).__name__)
    try:
        return render_html(report)
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError("acgs.platform.performance_html: the report lacks or mistypes %s" % exc)


class FilterModule(object):

    def filters(self):
        return {"performance_html": performance_html}

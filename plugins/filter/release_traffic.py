# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: release_traffic
author: ACGS Operations Team (@acgs)
version_added: 0.1.0
short_description: The HAProxy servers of a wave of services at one traffic step (for acgs_traffic)
description:
  - For each service of O(names), the servers of its target and source slots (one per instance host,
    named C(<service>-<slot><suffix>) in backend C(be_<service>)) with O(percent) of the traffic on the
    target slot and the rest on the source slot, every server C(ready).
  - The list is what M(acgs.platform.acgs_traffic) takes as its C(servers); O(percent=0) puts the wave back.
positional: names, suffixes, percent
options:
  _input:
    description: The release plans by service (M(acgs.platform.release_plan#filter)), action V(deploy).
    type: dict
    required: true
  names:
    description: The services of the wave.
    type: list
    elements: str
    required: true
  suffixes:
    description: The server name suffix of each instance host (V('') with one host).
    type: list
    elements: str
    required: true
  percent:
    description: Share of each service's traffic on its target slot, 0..100.
    type: int
    required: true
"""

EXAMPLES = r"""
- name: Half of the wave's traffic on the new slots
  acgs.platform.acgs_traffic:
    servers: "{{ acgs_deploy_plans | acgs.platform.release_traffic(['auth-service', 'ac-service'], [''], 50) }}"
"""

RETURN = r"""
_value:
  description: The servers, each with C(backend), C(server), C(weight) and C(state).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.module_utils._release import ReleaseError, traffic


def _release_traffic(plans, names, suffixes, percent):
    try:
        return traffic(plans, names, suffixes, percent)
    except (ReleaseError, KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError("release_traffic: %s" % exc)


class FilterModule(object):

    def filters(self):
        return {"release_traffic": _release_traffic}

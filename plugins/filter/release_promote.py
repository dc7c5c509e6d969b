# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: release_promote
author: ACGS Operations Team (@acgs)
version_added: 0.1.0
short_description: The deploy state after the target slots of some ACGS services took all their traffic
description:
  - Returns the whole deploy state (the JSON of C(acgs_deploy_state_file)) in which each service of O(names) has
    all its traffic on its plan's target slot (weight 100, the other slot 0), that slot active, O(deployment_id)
    recorded; with O(keep_old=false) the other slot is marked as not running.
  - Fails naming a service of O(names) without a deploy plan.
positional: plans, names, default_version, deployment_id
options:
  _input:
    description: The deploy state; V({}) when none is recorded.
    type: dict
    required: true
  plans:
    description: The release plans by service (M(acgs.platform.release_plan#filter)).
    type: dict
    required: true
  names:
    description: The services promoted.
    type: list
    elements: str
    required: true
  default_version:
    description: The release of a service no deploy has touched yet.
    type: str
    required: true
  deployment_id:
    description: The deployment (or rollback) that promoted them.
    type: str
    required: true
  keep_old:
    description: Whether the other slots keep running (weight 0) for an instant rollback.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Record that the wave's new slots have all the traffic
  ansible.builtin.set_fact:
    acgs_deploy_state: "{{ acgs_deploy_state | acgs.platform.release_promote(acgs_deploy_plans, ['auth-service'], '0.1.0',
      'deploy-1764265000') }}"
"""

RETURN = r"""
_value:
  description: The deploy state, a dict whose C(services) maps each service name to its C(active) slot, C(release), C(deployment_id) and C(slots).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.module_utils._release import ReleaseError, promoted_plans


def _release_promote(state, plans, names, default_version, deployment_id, keep_old=True):
    try:
        return promoted_plans(state or {}, plans, names, default_version, deployment_id, keep_old)
    except (ReleaseError, KeyError, TypeError) as exc:
        raise AnsibleFilterError("release_promote: %s" % exc)


class FilterModule(object):

    def filters(self):
        return {"release_promote": _release_promote}

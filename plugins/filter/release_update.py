# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: release_update
author: ACGS Operations Team (@acgs)
version_added: 0.1.0
short_description: The deploy state after a slot of one ACGS service is installed or promoted
description:
  - Returns the whole deploy state (the JSON of C(acgs_deploy_state_file)) with one change for service O(name).
  - V(install) sets the O(target) slot's state to O(slot_state) (the C(install) of M(acgs.platform.release_plan#filter)).
  - V(promote) gives the O(target) slot all the traffic (weight 100, the other slot 0) and makes it the active one,
    recording O(deployment_id); with O(keep_old=false) the other slot is marked as not running.
positional: name, default_version, mode, target
options:
  _input:
    description: The deploy state; V({}) when none is recorded.
    type: dict
    required: true
  name:
    description: Service name.
    type: str
    required: true
  default_version:
    description: The release of a service no deploy has touched yet.
    type: str
    required: true
  mode:
    description: What happened.
    type: str
    choices: [install, promote]
    required: true
  target:
    description: The slot.
    type: str
    choices: [blue, green]
    required: true
  slot_state:
    description: With V(install), the slot's C(release), C(weight), C(running) and C(faults).
    type: dict
  deployment_id:
    description: With V(promote), the deployment (or rollback) that promoted it.
    type: str
  keep_old:
    description: With V(promote), whether the other slot keeps running (weight 0) for an instant rollback.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Record that auth-service's green slot has all the traffic
  ansible.builtin.set_fact:
    acgs_deploy_state: "{{ acgs_deploy_state | acgs.platform.release_update('auth-service', '0.1.0', 'promote', 'green',
      deployment_id='deploy-1764265000') }}"
"""

RETURN = r"""
_value:
  description: The deploy state, a dict whose C(services) maps each service name to its C(active) slot, C(release), C(deployment_id) and C(slots).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.module_utils._release import ReleaseError, update


def _release_update(state, name, default_version, mode, target, slot_state=None, deployment_id=None, keep_old=True):
    try:
        return update(state or {}, name, default_version, mode, target, slot_state, deployment_id, keep_old)
    except (ReleaseError, KeyError, TypeError) as exc:
        raise AnsibleFilterError("release_update: %s" % exc)


class FilterModule(object):

    def filters(self):
        return {"release_update": _release_update}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: release_plan
author: ACGS Operations Team (@acgs)
version_added: 0.1.0
short_description: What deploying a release to one ACGS service does (slot, validation, traffic steps)
description:
  - Decides, for one service's state (an entry of the C(services) of M(acgs.platform.release_slots#filter)),
    whether O(release) is already serving all the traffic (C(action=none)) or which slot gets it and
    the weights of each traffic step.
  - The target slot is the idle one unless the active slot already runs the release.
  - Fails naming the variable when the version or the steps are malformed.
positional: release, steps, faults
options:
  _input:
    description: One service's state.
    type: dict
    required: true
  release:
    description: The version to deploy (letters, digits, C(.), C(+), C(_), C(-)).
    type: str
    required: true
  steps:
    description: Percentages of the traffic on the new release, increasing, ending at 100.
    type: list
    elements: int
    required: true
  faults:
    description: Faults for the new release's configuration; default those the slot had for the same release, else none.
    type: dict
"""

EXAMPLES = r"""
- name: Plan the deploy of 0.2.0 to auth-service
  ansible.builtin.set_fact:
    plan: "{{ acgs_release_slots.services['auth-service'] | acgs.platform.release_plan('0.2.0', [50, 100]) }}"
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    action:
      description: V(none) (the release has all the traffic) or V(deploy).
      type: str
    target:
      description: The slot that runs the release.
      type: str
    source:
      description: The slot traffic moves away from.
      type: str
    previous_release:
      description: The release of the active slot before the deploy.
      type: str
    previous_slot:
      description: The active slot before the deploy.
      type: str
    install:
      description: The target slot's state while it is installed and validated (release, weight, running, faults).
      type: dict
    reuse:
      description: The target slot already runs the release (nothing to install).
      type: bool
    steps:
      description: Each step's percentage and the weights (slot -> weight) it sets.
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.module_utils._release import ReleaseError, plan


def _release_plan(current, release, steps, faults=None):
    try:
        return plan(current, release, steps, faults)
    except (ReleaseError, KeyError, TypeError) as exc:
        raise AnsibleFilterError("release_plan: %s" % exc)


class FilterModule(object):

    def filters(self):
        return {"release_plan": _release_plan}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: release_install
author: ACGS Operations Team (@acgs)
version_added: 0.1.0
short_description: The deploy state with the target slot of every planned service installed (weight 0)
description:
  - For each plan whose C(action) is V(deploy) (from C(acgs.platform.release_plan)), records its C(target) slot as
    C(install) says - the new release, running, weight 0 (or the weight it had when the slot ran that release).
  - A deploy records this before it starts the new slots of all its services at once, so a converge that runs
    meanwhile keeps them.
positional: plans, default_version
options:
  _input:
    description: The deploy state (the JSON of C(acgs_deploy_state_file)).
    type: dict
    required: true
  plans:
    description: Service name to its plan.
    type: dict
    required: true
  default_version:
    description: The release of a service no deploy has touched yet.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Record the new slots
  ansible.builtin.set_fact:
    state: "{{ acgs_deploy_state | acgs.platform.release_install(acgs_deploy_plans, '0.1.0') }}"
"""

RETURN = r"""
_value:
  description: The whole deploy state.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.module_utils._release import ReleaseError, installed_plans


def _release_install(state, plans, default_version):
    try:
        return installed_plans(state or {}, plans or {}, default_version)
    except (ReleaseError, KeyError, TypeError) as exc:
        raise AnsibleFilterError("release_install: %s" % exc)


class FilterModule(object):

    def filters(self):
        return {"release_install": _release_install}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: release_slots
author: ACGS Operations Team (@acgs)
version_added: 0.1.0
short_description: The instance slots (blue, green) of every ACGS service from the recorded deploy state
description:
  - Completes the deploy state recorded on the hosts (C(acgs_deploy_state_file)) for every catalog entry
    - which release each slot runs, its HAProxy weight, whether it runs, the faults of its configuration -
    and lists every installed instance.
  - A service the state does not name runs O(default_version) in its blue slot with all the traffic.
  - A service in O(isolated) (a security incident isolated it) has both slots not running, at weight 0,
    and C(isolated) true; its recorded releases are kept.
positional: state, default_version, isolated
options:
  _input:
    description: The service catalog (C(query('acgs.platform.service_catalog'))).
    type: list
    elements: dict
    required: true
  state:
    description: The recorded deploy state (the JSON of C(acgs_deploy_state_file)); V({}) when there is none.
    type: dict
    required: true
  default_version:
    description: The release of a service no deploy has touched yet.
    type: str
    required: true
  isolated:
    description: Names of the services a security incident isolated (C(acgs_incident_state_file)).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Where each service's traffic goes
  ansible.builtin.debug:
    msg: "{{ item.key }}: {{ item.value.active }} runs {{ item.value.release }}"
  loop: "{{ (acgs_catalog | acgs.platform.release_slots(acgs_deploy_state, '0.1.0')).services | dict2items }}"
"""

RETURN = r"""
_value:
  description: The services' states and the installed instances.
  type: dict
  contains:
    services:
      description:
        - Service name to its state, C(active) and C(idle) slot, C(release), C(deployment_id) and
          C(slots) (per slot C(release), C(weight), C(running), C(faults), C(port), C(server)).
      type: dict
    instances:
      description:
        - One catalog entry per installed slot, with C(slot), C(slot_port), C(server), C(release), C(weight),
          C(running) and C(faults) added.
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.module_utils._release import ReleaseError, release_slots


def _release_slots(catalog, state, default_version, isolated=None):
    try:
        return release_slots(catalog, state or {}, default_version, isolated or ())
    except (ReleaseError, KeyError, TypeError) as exc:
        raise AnsibleFilterError("release_slots: %s" % exc)


class FilterModule(object):

    def filters(self):
        return {"release_slots": _release_slots}

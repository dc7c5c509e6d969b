# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: release_waves
author: ACGS Operations Team (@acgs)
version_added: 0.1.0
short_description: The waves of services a blue-green deploy moves together
description:
  - Cuts the ordered service names into waves - runs of services of the same kind (critical or not), each at most
    O(size) services long - that a blue-green deploy validates and shifts together, one wave after the other.
  - A deploy orders the critical services last, so its waves are the other services, then the critical ones.
positional: critical, size
options:
  _input:
    description: The service names in deploy order.
    type: list
    elements: str
    required: true
  critical:
    description: The names of the critical services.
    type: list
    elements: str
    required: true
  size:
    description: Most services in one wave; V(0) for no limit, V(1) for one service at a time.
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: The waves of a deploy of every service
  ansible.builtin.debug:
    msg: "{{ ['gs-service', 'ec-service', 'auth-service'] | acgs.platform.release_waves(['auth-service']) }}"
    # [['gs-service', 'ec-service'], ['auth-service']]
"""

RETURN = r"""
_value:
  description: The waves, each a list of service names.
  type: list
  elements: list
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.module_utils._release import ReleaseError, waves


def _release_waves(order, critical, size=0):
    try:
        return waves(order, critical, size)
    except (ReleaseError, TypeError, ValueError) as exc:
        raise AnsibleFilterError("release_waves: %s" % exc)


class FilterModule(object):

    def filters(self):
        return {"release_waves": _release_waves}

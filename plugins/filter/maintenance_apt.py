# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: maintenance_apt
author: ACGS Operations Team (@acgs)
version_added: 0.1.0
short_description: The upgrades apt-get -s would make, split into security updates and the rest
description:
  - Reads the C(Inst) and C(Remv) lines of C(apt-get -s upgrade) (or C(install)). Each upgrade names the origins of
    its new version as C(Label:Version/Archive), for example C(Debian-Security:12/oldstable-security); it is a
    security update when one of them matches O(security_regex).
  - The maintenance role's weekly security updates install only those, each pinned to its version (RV(_value.install)).
positional: security_regex
options:
  _input:
    description: The standard output of C(apt-get -s).
    type: str
    required: true
  security_regex:
    description: A Python regular expression an origin of a security update matches.
    type: str
    default: "-security$"
"""

EXAMPLES = r"""
- name: What an upgrade would do
  ansible.builtin.command: apt-get -s upgrade
  register: simulated
  changed_when: false

- name: The security updates
  ansible.builtin.debug:
    msg: "{{ (simulated.stdout | acgs.platform.maintenance_apt).security | map(attribute='name') }}"
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    security:
      description: Upgrades from a security origin, each C({name, from, to, origins, arch, security}).
      type: list
      elements: dict
    other:
      description: Upgrades from other origins only.
      type: list
      elements: dict
    removed:
      description: Packages apt would remove, each C({name, version}).
      type: list
      elements: dict
    install:
      description: C(name=version) of each security update, for C(apt-get install).
      type: list
      elements: str
      sample: ["libexpat1=2.5.0-1+deb12u5"]
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.module_utils._maintenance import MaintenanceError, apt_plan


def maintenance_apt(output, security_regex=r"-security$"):
    try:
        return apt_plan(output, security_regex)
    except MaintenanceError as exc:
        raise AnsibleFilterError("acgs.platform.maintenance_apt: %s" % exc)


class FilterModule(object):

    def filters(self):
        return {"maintenance_apt": maintenance_apt}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: release_version
author: ACGS Operations Team (@acgs)
version_added: 0.1.0
short_description: A release version checked to be usable as a directory name, or an error naming what is wrong
description:
  - Returns the version stripped; fails when it is empty or holds anything but letters, digits, '.', '+', '_' and '-'
    (at most 64, starting with a letter or digit, no '..').
positional: what
options:
  _input:
    description: The version, for example C(0.2.0).
    type: raw
    required: true
  what:
    description: The variable named in the error.
    type: str
    default: acgs_release
"""

EXAMPLES = r"""
- name: Check the release
  ansible.builtin.set_fact:
    release: "{{ acgs_release | acgs.platform.release_version }}"
"""

RETURN = r"""
_value:
  description: The version.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.module_utils._release import ReleaseError, validate_version


def _release_version(value, what="acgs_release"):
    try:
        return validate_version(value, what)
    except ReleaseError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):

    def filters(self):
        return {"release_version": _release_version}

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: acgs_backup_info
short_description: List the ACGS backup sets in a backup store, newest first, with their manifests
version_added: 0.1.0
description:
  - Lists the complete backup sets written by M(acgs.platform.acgs_backup) in O(backup_dir), newest first, each with its
    manifest and the result of its last verification.
  - Sets without a complete manifest (interrupted runs) are never listed; they are reported in RV(leftovers) and
    removed by the next M(acgs.platform.acgs_backup) run. This module changes nothing.
  - A O(backup_dir) that does not exist holds no set (RV(count) is 0), with a warning.
author:
  - ACGS Operations Team (@acgs)
extends_documentation_fragment:
  - acgs.platform.acgs_backup
attributes:
  check_mode:
    support: full
    description: The module only reads.
  diff_mode:
    support: none
    description: Nothing changes, so there is no difference to show.
options:
  backup_id:
    description: Only this set (C(backup-<epoch>)); V(latest) means the newest.
    type: str
seealso:
  - module: acgs.platform.acgs_backup
"""

EXAMPLES = r"""
- name: List the backup sets
  acgs.platform.acgs_backup_info:
    backup_dir: /var/backups/acgs
  register: store

- name: Show the newest set and when it was verified
  ansible.builtin.debug:
    msg: "{{ store.latest.backup_id }} verified={{ store.latest.verified }}"
  when: store.latest is truthy
"""

RETURN = r"""
backups:
  description: Complete sets, newest first.
  returned: always
  type: list
  elements: dict
  contains:
    backup_id:
      description: Name of the set.
      type: str
      sample: backup-1767225600
    path:
      description: Directory of the set.
      type: str
      sample: /var/backups/acgs/backup-1767225600
    created:
      description: When the set was started (UTC, ISO 8601).
      type: str
      sample: "2026-01-01T00:00:00Z"
    age_seconds:
      description: Age of the set.
      type: float
      sample: 3600.0
    total_size:
      description: Bytes of all files of the set.
      type: int
      sample: 1048576
    components:
      description: Components in the set.
      type: list
      elements: str
      sample: [paths, postgresql, redis]
    encrypted:
      description: Whether the files are encrypted.
      type: bool
      sample: false
    verified:
      description: Result of the last verification, null if never verified.
      type: bool
      sample: true
    verified_at:
      description: When it was last verified.
      type: str
      sample: "2026-01-01T00:01:00Z"
    manifest:
      description: The full manifest (see M(acgs.platform.acgs_backup)).
      type: dict
      sample: {}
latest:
  description: The newest set (an item of RV(backups)), or an empty dict.
  returned: always
  type: dict
  sample: {backup_id: backup-1767225600}
count:
  description: Number of complete sets.
  returned: always
  type: int
  sample: 3
leftovers:
  description: Incomplete sets and temporary directories of interrupted runs (not listed in RV(backups)).
  returned: always
  type: list
  elements: str
  sample: [.backup-1767225500.partial]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.acgs.platform.plugins.module_utils._backup_store import info


def main():
    module = AnsibleModule(supports_check_mode=True, argument_spec=dict(
        backup_dir=dict(type="path", required=True),
        encryption_key_file=dict(type="path", no_log=False),
        backup_id=dict(type="str"),
    ))
    backup_dir = module.params["backup_dir"]
    result = dict(changed=False, backups=[], latest={}, count=0, leftovers=[])
    if not os.path.isdir(backup_dir):
        module.warn("backup_dir %s does not exist: no backup sets to list" % backup_dir)
        module.exit_json(**result)
    try:
        backups, leftovers = info(backup_dir, module.params["backup_id"])
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot list %s: %s" % (backup_dir, exc), **result)
    result.update(backups=backups, latest=backups[0] if backups else {}, count=len(backups), leftovers=leftovers)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

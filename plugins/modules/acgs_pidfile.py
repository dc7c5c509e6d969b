#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: acgs_pidfile
short_description: Remove a daemon's pid file whose pid is no longer the daemon's
version_added: 0.1.0
description:
  - Debian's SysV init scripts (C(status_of_proc)) take any live process with the pid file's pid for
    the daemon. After a crash or a killed machine that pid may belong to another process, and
    M(ansible.builtin.service) with O(ansible.builtin.service#module:state=started) then finds the
    daemon running and starts nothing. Run this before such a start.
  - The pid file is kept when its pid runs O(executable) (the same file as the process's C(/proc/PID/exe),
    or as its first or second argument, for an interpreted daemon). It is removed when the pid is not
    alive, runs another program, or the file names no pid. A missing file changes nothing.
  - Nothing is sent to any process.
author:
  - ACGS Operations Team (@acgs)
attributes:
  check_mode:
    support: full
    description: Reports whether the file would be removed, and removes nothing.
  diff_mode:
    support: none
    description: No diff is returned.
options:
  path:
    description: The daemon's pid file.
    type: path
    required: true
  executable:
    description: The daemon's program (a symlink is followed).
    type: path
    required: true
seealso:
  - module: ansible.builtin.service
"""

EXAMPLES = r"""
- name: Forget Redis's pid file when its pid is another program's
  acgs.platform.acgs_pidfile:
    path: /run/redis/redis-server.pid
    executable: /usr/bin/redis-server

- name: Start Redis
  ansible.builtin.service:
    name: redis-server
    state: started
"""

RETURN = r"""
pid:
  description: The pid the file named, or null when it was missing or named none.
  returned: always
  type: int
state:
  description: C(missing) (no file), C(daemon) (its pid runs O(executable); kept) or C(stale) (removed).
  returned: always
  type: str
holder:
  description: The command line of the other process that has the pid, when a live one has it.
  returned: always
  type: str
  sample: /usr/bin/python3 /usr/bin/ansible-test sanity
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.acgs.platform.plugins.module_utils._pidfiles import inspect


def main():
    module = AnsibleModule(
        argument_spec=dict(path=dict(type="path", required=True), executable=dict(type="path", required=True)),
        supports_check_mode=True,
    )
    path, executable = module.params["path"], module.params["executable"]
    # In check mode the package may be one an earlier task would have installed.
    if not os.path.isfile(executable) and not module.check_mode:
        module.fail_json(msg="executable %s: no such program (the daemon's package is not installed?)" % executable)
    try:
        found = inspect(path, executable)
    except OSError as err:
        module.fail_json(msg="pid file %s: %s" % (path, to_native(err)))
    changed = found["state"] == "stale"
    if changed and not module.check_mode:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass  # removed meanwhile (the daemon's own stop)
        except OSError as err:
            module.fail_json(msg="pid file %s: cannot remove it: %s" % (path, to_native(err)), **found)
    if found["state"] == "stale":
        why = "stale (%s)" % ("names no pid" if found["pid"] is None else
                              "pid %d is %s" % (found["pid"], found["holder"] or "not running"))
    else:
        why = "no pid file" if found["state"] == "missing" else "pid %d runs %s" % (found["pid"], executable)
    module.exit_json(changed=changed, msg="%s: %s" % (path, why), **found)


if __name__ == "__main__":
    main()

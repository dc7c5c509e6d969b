#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: acgs_supervisor_orphans
short_description: Stop the programs a killed supervisord left running
version_added: 0.1.0
description:
  - When supervisord dies (SIGKILL, the OOM killer) its programs live on, reparented to init, and keep their
    ports. The programs a new supervisord starts then cannot bind (they end C(FATAL)), while a check of the
    port passes against the orphans, which nothing supervises any more. Run this before supervisord starts.
  - An orphan is a process whose command line is a program's C(command=) in O(conf_dir) and that has no
    supervisord (O(supervisord)) among its ancestors. Each gets SIGTERM, and SIGKILL after the program's
    C(stopwaitsecs) (10 s when unset); the module fails naming any that survives SIGKILL.
  - A program whose command uses supervisord's C(%(...)s) expansions is not compared. A process whose command
    line differs from the program's (an older release's slot) is left to M(acgs.platform.acgs_slots), which
    frees the slots' ports.
author:
  - ACGS Operations Team (@acgs)
attributes:
  check_mode:
    support: full
    description: Lists the orphans and stops none.
  diff_mode:
    support: none
    description: No diff is returned.
options:
  conf_dir:
    description: supervisord's program files (C(*.conf) with C([program:NAME]) sections).
    type: path
    default: /etc/supervisor/conf.d
  supervisord:
    description: supervisord's program (a process running it is a supervisor; a symlink is followed).
    type: path
    default: /usr/bin/supervisord
seealso:
  - module: acgs.platform.acgs_slots
  - module: acgs.platform.acgs_pidfile
"""

EXAMPLES = r"""
- name: Stop the orphans of a killed supervisord's programs
  acgs.platform.acgs_supervisor_orphans:
    conf_dir: /etc/supervisor/conf.d

- name: Start supervisord
  ansible.builtin.service:
    name: supervisor
    state: started
"""

RETURN = r"""
orphans:
  description: The orphans found, each with how it stopped (C(drained) or C(terminated) at SIGTERM, C(killed)) and
    after how many seconds; in check mode, C(how) is C(would stop).
  returned: always
  type: list
  elements: dict
  sample: [{program: nats-server, pid: 4242, command: /usr/sbin/nats-server -c /etc/nats-server.conf, how: drained, seconds: 0.2}]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.plugins.module_utils._orphans import find
from ansible_collections.acgs.platform.plugins.module_utils._shutdown import stop_pids


def main():
    module = AnsibleModule(
        argument_spec=dict(conf_dir=dict(type="path", default="/etc/supervisor/conf.d"),
                           supervisord=dict(type="path", default="/usr/bin/supervisord")),
        supports_check_mode=True,
    )
    try:
        orphans = find(module.params["conf_dir"], module.params["supervisord"])
        if module.check_mode:
            stopped = [dict(o, how="would stop", seconds=0.0) for o in orphans]
        else:
            stopped = stop_pids(orphans)
    except OperatorError as err:
        module.fail_json(msg=to_native(err), orphans=[])
    module.exit_json(changed=bool(orphans), orphans=stopped,
                     msg="; ".join("%s (pid %d): %s" % (o["program"], o["pid"], o["how"]) for o in stopped) or "no orphan")


if __name__ == "__main__":
    main()

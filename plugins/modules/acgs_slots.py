#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: acgs_slots
short_description: Install and run a host's service instance slots under supervisord in one pass
version_added: 0.1.0
description:
  - What the services role's C(slots) action does on a host, as one module run instead of a task per
    file and per slot (the 7 services' slots took about 30 s as separate tasks).
  - Removes the files in O(remove) (what single-instance installs left).
  - Installs each release directory in O(releases) (root, 0755) with the files of its O(sources) entry
    (root, 0644); files that already match are not touched.
  - Writes each slot's configuration (O(slots[].config)) and supervisord program
    (O(slots[].program_conf)) when they differ, through a temporary file; a configuration is first
    checked with O(validate), and a refused one fails the task naming it with the file left as it was.
  - Then tells supervisord once, through its XML-RPC socket - as C(supervisorctl update) when a program
    file changed (changed and removed programs stopped at the same time, then loaded again), a restart
    of each running slot whose configuration or release directory changed, a start of each slot whose
    O(slots[].running) is true - and waits until the port of every slot that runs accepts connections.
    A slot supervisord gives up on (FATAL) fails the task at once, naming it.
  - Before starting anything, frees the slots' ports of processes supervisord does not run. The programs a
    killed supervisord left running (reparented to init) hold their ports, so that the programs a new
    supervisord starts cannot bind while a port check passes against the orphans. A holder whose command line
    names the slot's O(slots[].config_path) is stopped (SIGTERM, then SIGKILL after O(timeout)) and returned in
    RV(orphans); any other holder fails the task, naming its pid and command line, before anything is stopped.
author:
  - ACGS Operations Team (@acgs)
attributes:
  check_mode:
    support: full
    description: Compares the files and says what would be written or removed; tells supervisord nothing.
  diff_mode:
    support: none
    description: No diff is returned.
options:
  sources:
    description: The files of each release, by a name O(releases[].source) refers to - file name to content.
    type: dict
    default: {}
  releases:
    description: Release directories to install.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The directory (for example C(/opt/acgs/releases/auth-service/0.2.0)).
        type: path
        required: true
      source:
        description: Its files, a key of O(sources).
        type: str
        required: true
  slots:
    description: The instance slots, each a supervisord program with its configuration.
    type: list
    elements: dict
    default: []
    suboptions:
      program:
        description: The supervisord program name.
        type: str
        required: true
      port:
        description: The port the slot listens on.
        type: int
        required: true
      running:
        description: Whether the slot should run (started, and waited for).
        type: bool
        required: true
      release:
        description: Its release directory (a path of O(releases)); a change there restarts it when it runs.
        type: path
      config_path:
        description: Where its configuration goes.
        type: path
        required: true
      config:
        description: Its configuration's content (never logged).
        type: str
        required: true
      config_group:
        description: The group owning the configuration (owner root).
        type: str
        default: root
      config_mode:
        description: The configuration's mode, octal.
        type: str
        default: "0640"
      program_path:
        description: Where its supervisord program file goes.
        type: path
        required: true
      program_conf:
        description: The program file's content.
        type: str
        required: true
  validate:
    description: Command a configuration must pass before it is used, C(%s) standing for the file.
    type: str
  remove:
    description: Files to remove when present.
    type: list
    elements: path
    default: []
  host:
    description: The address the slots listen on.
    type: str
    default: 127.0.0.1
  timeout:
    description: Seconds for stops (drains) and for the ports to open.
    type: float
    default: 40
  supervisor_socket:
    description: supervisord's UNIX socket.
    type: path
    default: /var/run/supervisor.sock
requirements:
  - supervisord with its UNIX socket.
seealso:
  - module: community.general.supervisorctl
  - module: acgs.platform.acgs_shutdown
"""

EXAMPLES = r"""
- name: Two slots of auth-service, blue running 0.1.0
  acgs.platform.acgs_slots:
    sources:
      "0.1.0": {acgs_service.py: "{{ lookup('file', '/var/lib/acgs-release-store/0.1.0/acgs_service.py') }}"}
    releases:
      - {path: /opt/acgs/releases/auth-service/0.1.0, source: "0.1.0"}
    slots:
      - program: acgs-auth-service-blue
        port: 18000
        running: true
        release: /opt/acgs/releases/auth-service/0.1.0
        config_path: /etc/acgs/services/auth-service-blue.json
        config: "{{ lookup('template', 'service.json.j2') }}"
        config_group: acgs
        program_path: /etc/supervisor/conf.d/acgs-auth-service-blue.conf
        program_conf: "{{ lookup('template', 'supervisor.conf.j2') }}"
    validate: /usr/bin/python3 /opt/acgs/releases/auth-service/0.1.0/acgs_service.py --check-config %s
  register: slots
"""

RETURN = r"""
written:
  description: Paths written, created or removed (would be, in check mode); directories end with C(/).
  returned: always
  type: list
  elements: str
releases:
  description: Release directories where something was written.
  returned: always
  type: list
  elements: str
configs:
  description: Programs whose configuration was written.
  returned: always
  type: list
  elements: str
programs:
  description: Programs whose supervisord file was written.
  returned: always
  type: list
  elements: str
removed:
  description: Files removed.
  returned: always
  type: list
  elements: str
loaded:
  description: supervisord's update - programs C(added), C(changed) (stopped, then loaded again), C(removed).
  returned: success
  type: dict
orphans:
  description: >-
    Processes that held a slot's port without supervisord running them, stopped before the slots were started:
    the programs a killed supervisord left running (their command line names the slot's configuration).
  returned: success
  type: list
  elements: dict
  sample: [{program: acgs-fv-service-blue, pid: 4242, port: 18003, command: "python3 ... --config /etc/acgs/services/fv-service-blue.json",
            how: drained, seconds: 0.3}]
restarted:
  description: Running slots restarted for a changed configuration or release.
  returned: success
  type: list
  elements: str
started:
  description: Slots that were not running and were started.
  returned: success
  type: list
  elements: str
seconds:
  description: Wall time of the module.
  returned: always
  type: float
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.acgs.platform.plugins.module_utils import _slots as slots
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.plugins.module_utils._supervisor import Supervisor


def main():
    module = AnsibleModule(
        argument_spec=dict(
            sources=dict(type="dict", default={}),
            releases=dict(type="list", elements="dict", default=[], options=dict(
                path=dict(type="path", required=True),
                source=dict(type="str", required=True),
            )),
            slots=dict(type="list", elements="dict", default=[], options=dict(
                program=dict(type="str", required=True),
                port=dict(type="int", required=True),
                running=dict(type="bool", required=True),
                release=dict(type="path"),
                config_path=dict(type="path", required=True),
                config=dict(type="str", required=True, no_log=True),
                config_group=dict(type="str", default="root"),
                config_mode=dict(type="str", default="0640"),
                program_path=dict(type="path", required=True),
                program_conf=dict(type="str", required=True),
            )),
            validate=dict(type="str"),
            remove=dict(type="list", elements="path", default=[]),
            host=dict(type="str", default="127.0.0.1"),
            timeout=dict(type="float", default=40.0),
            supervisor_socket=dict(type="path", default="/var/run/supervisor.sock"),
        ),
        supports_check_mode=True,
    )
    started = time.monotonic()
    files = slots.Files(module.check_mode)
    result = {"written": files.written}
    try:
        changed = slots.install(module.params, files)
        result.update(changed)
        if not module.check_mode:
            result.update(slots.run(module.params, Supervisor(module.params["supervisor_socket"]), changed))
    except OperatorError as err:
        module.fail_json(msg=to_native(err), seconds=round(time.monotonic() - started, 2), **result)
    result["seconds"] = round(time.monotonic() - started, 2)
    module.exit_json(changed=bool(files.written or result.get("orphans") or result.get("restarted") or result.get("started")), **result)


if __name__ == "__main__":
    main()

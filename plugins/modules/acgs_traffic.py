#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: acgs_traffic
short_description: Set the weights and states of many HAProxy servers at once, all or nothing
version_added: 0.1.0
description:
  - Sets the weight and admin state of every server in O(servers), in any number of backends, through HAProxy's
    runtime API on the admin O(socket) (C(set server ... weight), C(set server ... state)), with no reload.
    This is one traffic step of a blue-green deploy of many services.
  - Servers that get traffic (a weight above 0 and C(ready)) are changed first; with O(wait) the module then
    waits until HAProxy's health checks see every one of them C(UP), and only then changes the others (the
    servers traffic moves away from). A backend never has less serving weight during the change than before
    or after it.
  - All or nothing - when a server does not come up within O(timeout), when HAProxy refuses a command, or on
    SIGINT or SIGTERM (for example AWX's cancel), the module puts back the weights and states every server had
    when it started and fails naming the cause.
  - Servers HAProxy does not know fail the module before anything changes.
  - M(community.general.haproxy) does the same for one server per task; one task per step of a whole wave of
    services is what keeps a deploy of 7 services close to the time of restarting them.
author:
  - ACGS Operations Team (@acgs)
attributes:
  check_mode:
    support: full
    description: Reads the servers' weights and states and returns what would change; changes nothing.
  diff_mode:
    support: none
    description: No diff is returned.
options:
  servers:
    description: The servers and what they should have.
    type: list
    elements: dict
    required: true
    suboptions:
      backend:
        description: HAProxy backend of the server.
        type: str
        required: true
      server:
        description: Server name in the backend.
        type: str
        required: true
      weight:
        description: Weight, 0..256.
        type: int
        required: true
      state:
        description: Admin state. V(drain) keeps the server up without new traffic; V(maint) takes it out.
        type: str
        choices: [ready, drain, maint]
        default: ready
  socket:
    description: HAProxy's runtime API socket; needs C(level admin).
    type: path
    default: /run/haproxy/admin.sock
  wait:
    description: Wait until every server that gets traffic is C(UP) before taking traffic from the others.
    type: bool
    default: true
  timeout:
    description: Seconds the servers that get traffic have to come up.
    type: float
    default: 30
seealso:
  - module: community.general.haproxy
  - module: acgs.platform.acgs_canary
"""

EXAMPLES = r"""
- name: Half of auth-service's and ac-service's traffic on the green slot
  acgs.platform.acgs_traffic:
    servers:
      - {backend: be_auth-service, server: auth-service-green, weight: 50}
      - {backend: be_auth-service, server: auth-service-blue, weight: 50}
      - {backend: be_ac-service, server: ac-service-green, weight: 50}
      - {backend: be_ac-service, server: ac-service-blue, weight: 50}

- name: What would change (check mode)
  acgs.platform.acgs_traffic:
    servers:
      - {backend: be_auth-service, server: auth-service-green, weight: 100}
      - {backend: be_auth-service, server: auth-service-blue, weight: 0, state: drain}
  check_mode: true
  register: plan
"""

RETURN = r"""
servers:
  description: Each server of O(servers), in order, with what it had and what it has now.
  returned: always
  type: list
  elements: dict
  contains:
    backend:
      description: The backend.
      type: str
    server:
      description: The server.
      type: str
    before:
      description: Weight, admin state and HAProxy's status when the module started.
      type: dict
      sample: {weight: 100, state: ready, status: UP}
    after:
      description: Weight, admin state and status at the end (in check mode, the wanted weight and state).
      type: dict
      sample: {weight: 50, state: ready, status: UP}
changed_servers:
  description: C(backend/server) of the servers whose weight or state changed (or would change, in check mode).
  returned: always
  type: list
  elements: str
waited_seconds:
  description: How long the servers that got traffic took to be up.
  returned: always
  type: float
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.acgs.platform.plugins.module_utils import _traffic
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.plugins.module_utils._haproxy_runtime import HaproxyRuntime
from ansible_collections.acgs.platform.plugins.module_utils._signals import run_or_restore

POLL_SECONDS = 0.2


class Split(object):
    """The wanted servers and what HAProxy says about them."""

    def __init__(self, runtime, wanted):
        self.runtime = runtime
        self.wanted = wanted
        self.before = {}

    def read(self):
        """{(backend, server): {weight, state, status}} now; fails naming unknown servers."""
        rows = self.runtime.show_stat()
        unknown = _traffic.missing(self.wanted, rows)
        if unknown:
            raise OperatorError("HAProxy has no server %s (nothing was changed)" % ", ".join(unknown))
        states = self.runtime.admin_states()
        now = {}
        for item in self.wanted:
            key = (item["backend"], item["server"])
            weight, _initial = self.runtime.get_weight(*key)
            now[key] = {"weight": weight, "state": states[key], "status": rows[key].get("status", "")}
        return now

    def apply(self, items):
        for item in items:
            self.runtime.set_weight(item["backend"], item["server"], item["weight"])
            self.runtime.set_state(item["backend"], item["server"], item["state"])

    def wait_up(self, items, timeout):
        """Seconds until every server of ``items`` is UP; OperatorError naming those that are not."""
        started = time.monotonic()
        waiting = [(item["backend"], item["server"]) for item in items]
        while waiting:
            rows = self.runtime.show_stat()
            waiting = [key for key in waiting if not _traffic.is_up(rows.get(key))]
            if not waiting:
                break
            if time.monotonic() - started > timeout:
                raise OperatorError("not UP after %.0f s: %s" % (timeout, ", ".join(
                    "%s/%s (%s)" % (key[0], key[1], (rows.get(key) or {}).get("status", "?")) for key in waiting)))
            time.sleep(POLL_SECONDS)
        return round(time.monotonic() - started, 3)

    def restore(self):
        back = [{"backend": key[0], "server": key[1], "weight": was["weight"], "state": was["state"]}
                for key, was in self.before.items()]
        self.apply(back)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            servers=dict(type="list", elements="dict", required=True, options=dict(
                backend=dict(type="str", required=True),
                server=dict(type="str", required=True),
                weight=dict(type="int", required=True),
                state=dict(type="str", default="ready", choices=["ready", "drain", "maint"]),
            )),
            socket=dict(type="path", default="/run/haproxy/admin.sock"),
            wait=dict(type="bool", default=True),
            timeout=dict(type="float", default=30),
        ),
        supports_check_mode=True,
    )
    result = {"servers": [], "changed_servers": [], "waited_seconds": 0.0}
    try:
        wanted = _traffic.validate(module.params["servers"])
        runtime = HaproxyRuntime(module.params["socket"])
        runtime.check_socket()
        split = Split(runtime, wanted)
        split.before = split.read()
    except OperatorError as err:
        module.fail_json(msg=to_native(err), changed=False, **result)
    raising, lowering = _traffic.phases(wanted, split.before)
    result["changed_servers"] = ["%s/%s" % (item["backend"], item["server"]) for item in raising + lowering]

    def report(after):
        result["servers"] = [{"backend": item["backend"], "server": item["server"],
                              "before": split.before[(item["backend"], item["server"])],
                              "after": after[(item["backend"], item["server"])]} for item in wanted]

    if module.check_mode or not result["changed_servers"]:
        report(dict(((item["backend"], item["server"]), {"weight": item["weight"], "state": item["state"],
                     "status": split.before[(item["backend"], item["server"])]["status"]}) for item in wanted))
        module.exit_json(changed=bool(result["changed_servers"]), msg="%d server(s) %s" % (
            len(result["changed_servers"]), "would change" if module.check_mode else "changed"), **result)

    def work():
        split.apply(raising)
        if module.params["wait"]:
            result["waited_seconds"] = split.wait_up(raising, module.params["timeout"])
        split.apply(lowering)

    dummy, cause, again = run_or_restore(work, split.restore)
    failure = None
    if cause is not None:
        failure = "%s: every server put back as it was" % cause if again is None else (
            "%s; putting the servers back failed too: %s" % (cause, again))
    try:
        report(split.read())
    except OperatorError:
        pass
    if failure:
        module.fail_json(msg=failure, changed=True, **result)
    module.exit_json(changed=True, msg="%d server(s) changed" % len(result["changed_servers"]), **result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: acgs_haproxy_show
short_description: Read HAProxy's own view through its runtime API (show commands only)
version_added: 0.1.0
description:
  - Sends each of O(commands), read-only runtime API commands such as C(show info), C(show stat),
    C(show servers state) or C(show map FILE), to HAProxy's admin O(socket), one per connection, and
    returns the answers as HAProxy wrote them, for a record such as an incident's forensics.
  - Only single C(show ...) commands are accepted (no C(;), no newline); anything else fails before
    anything is sent, naming it. Changes nothing.
  - A command that gets no answer (HAProxy down, a missing socket, a timeout) does not fail the module;
    its C(error) says why, since a missing answer is itself evidence. Use M(acgs.platform.acgs_traffic)
    to change servers and M(acgs.platform.acgs_haproxy_map) to change maps.
author:
  - ACGS Operations Team (@acgs)
attributes:
  check_mode:
    support: full
    description: Only reads; runs the same in check mode.
  diff_mode:
    support: none
    description: No diff is returned.
options:
  commands:
    description: The C(show ...) commands, sent in this order.
    type: list
    elements: str
    required: true
  socket:
    description: HAProxy's runtime API socket.
    type: path
    default: /run/haproxy/admin.sock
  timeout:
    description: Seconds one command may take.
    type: float
    default: 10
seealso:
  - module: acgs.platform.acgs_traffic
  - module: acgs.platform.acgs_haproxy_map
"""

EXAMPLES = r"""
- name: HAProxy's view for the forensic bundle
  acgs.platform.acgs_haproxy_show:
    commands: [show info, show stat, show servers state, show map /etc/haproxy/acgs-unavailable.map]
  register: haproxy_view

- name: Keep it as text
  ansible.builtin.copy:
    content: "{{ haproxy_view.text }}"
    dest: /tmp/haproxy.txt
    mode: "0600"
"""

RETURN = r"""
answers:
  description: Each command with HAProxy's answer, or the error when it got none.
  returned: always
  type: list
  elements: dict
  sample: [{command: show info, answer: "Name: HAProxy\nVersion: 2.6.12", error: ""}]
text:
  description: "The answers as one text, each under a C(### COMMAND) line; a missing one as C((no answer: ERROR))."
  returned: always
  type: str
unanswered:
  description: The commands that got no answer.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.plugins.module_utils._haproxy_runtime import HaproxyRuntime, show_commands, show_text


def main():
    module = AnsibleModule(
        argument_spec=dict(
            commands=dict(type="list", elements="str", required=True),
            socket=dict(type="path", default="/run/haproxy/admin.sock"),
            timeout=dict(type="float", default=10.0),
        ),
        supports_check_mode=True,
    )
    try:
        answers = show_commands(HaproxyRuntime(module.params["socket"], timeout=module.params["timeout"]), module.params["commands"])
    except OperatorError as err:
        module.fail_json(msg=to_native(err), changed=False, answers=[], text="", unanswered=[])
    unanswered = [a["command"] for a in answers if a["error"]]
    module.exit_json(changed=False, answers=answers, text=show_text(answers), unanswered=unanswered,
                     msg="%s: %d of %d command(s) answered" % (module.params["socket"], len(answers) - len(unanswered), len(answers)))


if __name__ == "__main__":
    main()

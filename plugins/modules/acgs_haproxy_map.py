#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: acgs_haproxy_map
short_description: Entries of an HAProxy map, in the running HAProxy and in its file, without a reload
version_added: 0.1.0
description:
  - Adds, updates or removes entries of a map file that HAProxy's configuration uses (for example
    C(fe_name,map(/etc/haproxy/acgs-unavailable.map\)) to answer a maintenance response), in the running
    process through the runtime API on the admin O(socket) (C(add map), C(set map), C(del map)) and in the
    file itself, so that a reload or restart keeps them. HAProxy is not reloaded.
  - The file is written atomically (a temporary file renamed over it); its other lines are kept.
  - M(community.general.haproxy) changes servers, not maps.
author:
  - ACGS Operations Team (@acgs)
attributes:
  check_mode:
    support: full
    description: Reads the file and the running map and returns what would change; changes nothing.
  diff_mode:
    support: none
    description: No diff is returned.
options:
  map:
    description: The map file, as HAProxy's configuration names it.
    type: path
    required: true
  entries:
    description: Keys and their values (no spaces). With O(state=absent) only the keys count.
    type: dict
    required: true
  state:
    description: V(present) adds or updates the entries, V(absent) removes the keys.
    type: str
    choices: [present, absent]
    default: present
  socket:
    description: HAProxy's runtime API socket; needs C(level admin).
    type: path
    default: /run/haproxy/admin.sock
seealso:
  - module: community.general.haproxy
"""

EXAMPLES = r"""
- name: auth-service's frontend answers the maintenance response
  acgs.platform.acgs_haproxy_map:
    map: /etc/haproxy/acgs-unavailable.map
    entries:
      fe_auth-service: maintenance

- name: And serves again
  acgs.platform.acgs_haproxy_map:
    map: /etc/haproxy/acgs-unavailable.map
    entries:
      fe_auth-service: ""
    state: absent
"""

RETURN = r"""
entries:
  description: The running map's entries at the end (in check mode, as they would be).
  returned: always
  type: dict
  sample: {fe_auth-service: maintenance}
before:
  description: The running map's entries when the module started.
  returned: always
  type: dict
file_changed:
  description: Whether the file was (or would be) rewritten.
  returned: always
  type: bool
runtime_changed:
  description: Keys changed (or that would change) in the running HAProxy.
  returned: always
  type: list
  elements: str
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.plugins.module_utils._haproxy_runtime import HaproxyRuntime, set_map_entry, show_map


def read_file(path):
    """(lines, {key: value}) of a map file; a missing file is empty."""
    try:
        with open(path) as handle:
            lines = handle.read().splitlines()
    except IOError as err:
        if err.errno == 2:
            return [], {}
        raise OperatorError("map: cannot read %s: %s" % (path, err.strerror))
    entries = {}
    for line in lines:
        parts = line.split(None, 1)
        if parts and not parts[0].startswith("#"):
            entries[parts[0]] = parts[1].strip() if len(parts) == 2 else ""
    return lines, entries


def wanted_lines(lines, entries, present):
    """The file's lines with each key of ``entries`` set (present) or removed, others kept in order."""
    out, done = [], set()
    for line in lines:
        parts = line.split(None, 1)
        key = parts[0] if parts and not parts[0].startswith("#") else None
        if key in entries:
            if present and key not in done:
                out.append("%s %s" % (key, entries[key]))
            done.add(key)
            continue
        out.append(line)
    if present:
        out.extend("%s %s" % (key, entries[key]) for key in sorted(entries) if key not in done)
    return out


def write_file(path, lines):
    directory = os.path.dirname(path) or "."
    handle, tmp = tempfile.mkstemp(prefix=".acgs-map-", dir=directory)
    try:
        with os.fdopen(handle, "w") as out:
            out.write("".join(line + "\n" for line in lines))
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)
    except OSError as err:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise OperatorError("map: cannot write %s: %s" % (path, err.strerror))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            map=dict(type="path", required=True),
            entries=dict(type="dict", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            socket=dict(type="path", default="/run/haproxy/admin.sock"),
        ),
        supports_check_mode=True,
    )
    path, present = module.params["map"], module.params["state"] == "present"
    entries = dict((to_native(key), to_native(value)) for key, value in module.params["entries"].items())
    result = {"entries": {}, "before": {}, "file_changed": False, "runtime_changed": []}
    try:
        if not entries:
            raise OperatorError("entries is empty: name at least one key")
        for key, value in entries.items():
            if not key or any(ch in key + (value if present else "") for ch in " ;\r\n\t") or (present and not value):
                raise OperatorError("entries: %r -> %r is not a key and a value without spaces or ';'" % (key, value))
        runtime = HaproxyRuntime(module.params["socket"])
        runtime.check_socket()
        lines, _in_file = read_file(path)
        running = show_map(runtime, path)
        result["before"] = dict(running)
        new_lines = wanted_lines(lines, entries, present)
        result["file_changed"] = new_lines != lines
        if present:
            result["runtime_changed"] = sorted(key for key in entries if running.get(key) != entries[key])
        else:
            result["runtime_changed"] = sorted(key for key in entries if key in running)
        after = dict(running)
        for key in result["runtime_changed"]:
            if present:
                after[key] = entries[key]
            else:
                after.pop(key, None)
        if not module.check_mode:
            if result["file_changed"]:
                write_file(path, new_lines)
            for key in result["runtime_changed"]:
                set_map_entry(runtime, path, key, entries.get(key), present)
            after = show_map(runtime, path)
        result["entries"] = after
    except OperatorError as err:
        module.fail_json(msg=to_native(err), changed=False, **result)
    changed = result["file_changed"] or bool(result["runtime_changed"])
    module.exit_json(changed=changed, msg="%s: %d running key(s) changed%s" % (
        path, len(result["runtime_changed"]), ", file rewritten" if result["file_changed"] else ""), **result)


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: a small client of HAProxy's runtime API over its unix socket.

``show stat`` parsed by (pxname, svname), ``set server B/S weight N``,
``set server B/S state ready|drain|maint`` and ``get weight B/S``: what moving
traffic between two servers of a backend needs, with no reload. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import stat as stat_module

from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError, describe_error

STATES = ("ready", "drain", "maint")
MAX_ANSWER = 16 * 1024 * 1024

# show stat counters a canary analysis reads (cumulative, except rtime/ttime:
# averages over the last 1024 requests, in ms)
RESPONSE_CODES = ("hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other")


def parse_stat(text):
    """{(pxname, svname): row} for the CSV of ``show stat``; each row maps column -> text.

    The first line is the header (``# pxname,svname,...``). Empty cells stay ''.
    """
    lines = [line for line in to_native(text).splitlines() if line.strip()]
    if not lines or not lines[0].startswith("#"):
        raise OperatorError("unexpected answer to 'show stat' (no CSV header): %r" % (to_native(text)[:200],))
    header = [name.strip() for name in lines[0].lstrip("#").strip().split(",")]
    rows = {}
    for line in lines[1:]:
        cells = line.split(",")
        row = dict(zip(header, cells))
        if "pxname" in row and "svname" in row:
            rows[(row["pxname"], row["svname"])] = row
    return rows


def counter(row, name):
    """The integer value of a ``show stat`` column; 0 when empty or missing."""
    value = (row or {}).get(name, "")
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# srv_admin_state flags of ``show servers state`` (HAProxy's SRV_ADMF_*): maintenance forced, inherited
# from a tracked server, from the configuration, or for a failed address resolution; drain forced or
# inherited.
ADMIN_MAINT = 0x01 | 0x02 | 0x04 | 0x20
ADMIN_DRAIN = 0x08 | 0x10


def parse_servers_state(text):
    """{(backend, server): 'ready' | 'drain' | 'maint'} from the answer to ``show servers state``.

    The admin state as set with ``set server ... state``. Not from ``show stat``'s status column:
    a server that is DOWN shows DOWN whatever its admin state (a drained one reads as ready there),
    and an UP one with weight 0 shows DRAIN though it is ready.
    """
    header = None
    states = {}
    for line in to_native(text).splitlines():
        if line.startswith("#"):
            header = line.lstrip("#").split()
            continue
        if header is None or not line.strip():
            continue  # the format version before the header
        row = dict(zip(header, line.split()))
        try:
            flags = int(row["srv_admin_state"])
            key = (row["be_name"], row["srv_name"])
        except (KeyError, ValueError):
            raise OperatorError("unexpected line in the answer to 'show servers state': %r" % (line[:200],))
        states[key] = "maint" if flags & ADMIN_MAINT else "drain" if flags & ADMIN_DRAIN else "ready"
    if header is None:
        raise OperatorError("unexpected answer to 'show servers state' (no header): %r" % (to_native(text)[:200],))
    return states


def parse_weight(text):
    """(current, initial) from the answer to ``get weight``, such as ``10 (initial 100)``."""
    answer = to_native(text).strip()
    parts = answer.replace("(", " ").replace(")", " ").split()
    try:
        current = int(parts[0])
        initial = int(parts[2]) if len(parts) >= 3 and parts[1] == "initial" else current
    except (IndexError, ValueError):
        raise OperatorError("unexpected answer to 'get weight': %r" % (answer[:200],))
    return current, initial


def _check_name(value, what):
    text = to_native(value)
    if not text or any(ch in text for ch in " /;\r\n\t"):
        raise OperatorError("bad %s name %r (no spaces, '/' or ';')" % (what, text))
    return text


class HaproxyRuntime(object):
    """One command per connection to the admin socket (HAProxy closes it after answering)."""

    def __init__(self, path, timeout=10.0):
        self.path = path
        self.timeout = timeout

    def check_socket(self):
        """Raises OperatorError unless ``path`` is an existing unix socket."""
        try:
            mode = os.stat(self.path).st_mode
        except OSError as err:
            raise OperatorError("socket: HAProxy admin socket %s does not exist (%s)" % (self.path, err.strerror))
        if not stat_module.S_ISSOCK(mode):
            raise OperatorError("socket: %s is not a unix socket" % self.path)

    def command(self, line):
        """Send one command; the answer as text."""
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.settimeout(self.timeout)
        chunks = []
        size = 0
        try:
            conn.connect(self.path)
            conn.sendall(to_bytes(line) + b"\n")
            while size < MAX_ANSWER:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except (OSError, socket.timeout) as err:
            kind, message = describe_error(err, self.timeout)
            raise OperatorError("HAProxy admin socket %s: %r failed: %s" % (self.path, line, message), kind, message)
        finally:
            conn.close()
        return to_native(b"".join(chunks), errors="surrogate_or_replace")

    def _change(self, line):
        answer = self.command(line).strip()
        # success is an empty answer; anything else is HAProxy's complaint
        if answer:
            raise OperatorError("HAProxy refused %r: %s" % (line, answer))

    def show_stat(self):
        return parse_stat(self.command("show stat"))

    def admin_states(self):
        """{(backend, server): ready | drain | maint} of every server (parse_servers_state)."""
        return parse_servers_state(self.command("show servers state"))

    def server(self, backend, server):
        """The ``show stat`` row of one server, or None."""
        return self.show_stat().get((backend, server))

    def get_weight(self, backend, server):
        name = "%s/%s" % (_check_name(backend, "backend"), _check_name(server, "server"))
        answer = self.command("get weight %s" % name)
        if not answer.strip()[:1].isdigit():
            raise OperatorError("HAProxy refused 'get weight %s': %s" % (name, answer.strip()))
        return parse_weight(answer)

    def set_weight(self, backend, server, weight):
        weight = int(weight)
        if not 0 <= weight <= 256:
            raise OperatorError("weight %d out of HAProxy's range 0..256" % weight)
        self._change("set server %s/%s weight %d" % (_check_name(backend, "backend"), _check_name(server, "server"), weight))

    def set_state(self, backend, server, state):
        if state not in STATES:
            raise OperatorError("unknown server state %r (one of %s)" % (state, ", ".join(STATES)))
        self._change("set server %s/%s state %s" % (_check_name(backend, "backend"), _check_name(server, "server"), state))


def parse_map(text):
    """{key: value} from the answer to ``show map <file>`` (lines ``<id> <key> <value>``)."""
    entries = {}
    for line in to_native(text).splitlines():
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[0].startswith("0x"):
            entries[parts[1]] = parts[2].strip() if len(parts) == 3 else ""
        elif line.strip():
            raise OperatorError("unexpected answer to 'show map': %r" % (line[:200],))
    return entries


def _map_word(value, what):
    text = to_native(value)
    if not text or any(ch in text for ch in " ;\r\n\t"):
        raise OperatorError("bad map %s %r (no spaces or ';')" % (what, text))
    return text


def show_map(runtime, path):
    """The entries HAProxy holds for the map file ``path`` (as the configuration names it)."""
    answer = runtime.command("show map %s" % _map_word(path, "file"))
    if answer.strip().lower().startswith("unknown map"):
        raise OperatorError("HAProxy has no map %s (its configuration does not use it)" % path)
    return parse_map(answer)


def set_map_entry(runtime, path, key, value, present):
    """Add or update (``present``) or delete one entry of a loaded map, at runtime."""
    path, key = _map_word(path, "file"), _map_word(key, "key")
    if not present:
        runtime._change("del map %s %s" % (path, key))
    elif key in show_map(runtime, path):
        runtime._change("set map %s %s %s" % (path, key, _map_word(value, "value")))
    else:
        runtime._change("add map %s %s %s" % (path, key, _map_word(value, "value")))


def show_commands(runtime, commands):
    """Read-only runtime API commands (``show ...``, one each; no ``;`` or newline) sent one
    by one: ``[{command, answer, error}]``, an answer missing recorded with its error (for
    forensics, a socket that does not answer is itself evidence). Anything but a single
    ``show`` command raises OperatorError naming it before anything is sent."""
    commands = [to_native(command) for command in commands or []]
    if not commands:
        raise OperatorError("commands is empty: name at least one 'show ...' command")
    for command in commands:
        if not command.startswith("show ") or any(ch in command for ch in ";\r\n"):
            raise OperatorError("commands: %r is not a single read-only 'show ...' command" % (command,))
    out = []
    for command in commands:
        try:
            out.append({"command": command, "answer": runtime.command(command).rstrip("\n"), "error": ""})
        except OperatorError as err:
            out.append({"command": command, "answer": "", "error": to_native(err)})
    return out


def show_text(answers):
    """The answers as one text: each under a ``### COMMAND`` line (an error as ``(no answer: ...)``)."""
    return "".join("### %s\n%s\n" % (a["command"], a["answer"] if not a["error"] else "(no answer: %s)" % a["error"]) for a in answers)

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HAProxy's own view for an incident's forensics: each COMMAND (a read-only runtime API 'show ...' command)
sent to SOCKET, its answer printed under a '### COMMAND' line. Only 'show' commands are accepted.
Run with python3 on the load balancer by acgs.platform.incident (isolate), which puts the output in the bundle.

    haproxy_show.py SOCKET COMMAND...
"""

from __future__ import absolute_import, division, print_function

import socket
import sys


def ask(path, command):
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(10)
    try:
        conn.connect(path)
        conn.sendall(command.encode("ascii") + b"\n")
        chunks = []
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode("utf-8", "replace")
    finally:
        conn.close()


def main(argv):
    if len(argv) < 3:
        sys.stderr.write("usage: haproxy_show.py SOCKET COMMAND...\n")
        return 2
    status = 0
    for command in argv[2:]:
        if not command.startswith("show ") or any(ch in command for ch in ";\n"):
            sys.stderr.write("refused (only single 'show ...' commands): %r\n" % command)
            return 2
        print("### %s" % command)
        try:
            print(ask(argv[1], command).rstrip("\n"))
        except (OSError, socket.error) as err:
            print("(no answer: %s)" % err)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))

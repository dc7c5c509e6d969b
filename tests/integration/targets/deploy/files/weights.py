# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prints {server: {"weight": W, "admin": A, "operational": O}} of each BACKEND as HAProxy's runtime API
(show servers state, on SOCKET) has them, as JSON. Usage: weights.py SOCKET BACKEND..."""

from __future__ import absolute_import, division, print_function

import json
import socket
import sys


def servers(sock_path, backend):
    conn = socket.socket(socket.AF_UNIX)
    conn.settimeout(10)
    conn.connect(sock_path)
    conn.sendall(("show servers state %s\n" % backend).encode())
    data = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    lines = [line for line in data.decode().splitlines() if line and not line.startswith("#")]
    header = None
    out = {}
    for line in data.decode().splitlines():
        if line.startswith("# be_id"):
            header = line[2:].split()
    for line in lines[1:] if lines and lines[0].strip().isdigit() else lines:
        fields = dict(zip(header, line.split()))
        out[fields["srv_name"]] = {"weight": int(fields["srv_uweight"]), "admin": int(fields["srv_admin_state"]),
                                   "operational": int(fields["srv_op_state"])}
    return out


if __name__ == "__main__":
    found = {}
    for name in sys.argv[2:]:
        found.update(servers(sys.argv[1], name))
    print(json.dumps(found, sort_keys=True))

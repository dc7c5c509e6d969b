# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the traffic split of many HAProxy servers at once (acgs_traffic's logic).

Pure functions: the wanted servers checked, compared with what HAProxy has, and put in the
order that never takes capacity away before the servers that get it are up. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.plugins.module_utils._haproxy_runtime import STATES

MAX_WEIGHT = 256


def validate(servers):
    """The wanted servers as [{backend, server, weight, state}]; OperatorError naming the entry."""
    if not servers:
        raise OperatorError("servers is empty: name at least one backend/server with its weight")
    seen = set()
    out = []
    for index, entry in enumerate(servers):
        where = "servers[%d]" % index
        backend, server = entry.get("backend"), entry.get("server")
        if not backend or not server:
            raise OperatorError("%s needs backend and server" % where)
        try:
            weight = int(entry.get("weight"))
        except (TypeError, ValueError):
            raise OperatorError("%s.weight %r is not an integer" % (where, entry.get("weight")))
        if not 0 <= weight <= MAX_WEIGHT:
            raise OperatorError("%s.weight %d is outside HAProxy's 0..%d" % (where, weight, MAX_WEIGHT))
        state = entry.get("state") or "ready"
        if state not in STATES:
            raise OperatorError("%s.state %r is not one of %s" % (where, state, ", ".join(STATES)))
        key = (backend, server)
        if key in seen:
            raise OperatorError("%s: %s/%s is named twice" % (where, backend, server))
        seen.add(key)
        out.append({"backend": backend, "server": server, "weight": weight, "state": state})
    return out


def missing(wanted, rows):
    """'backend/server' of each wanted server HAProxy's ``show stat`` does not have."""
    return ["%s/%s" % (item["backend"], item["server"]) for item in wanted if (item["backend"], item["server"]) not in rows]


def takes_traffic(item):
    return item["weight"] > 0 and item["state"] == "ready"


def phases(wanted, before):
    """(raise, lower): the changes that give traffic, then those that take it away.

    ``before`` maps (backend, server) to {weight, state}. A server whose new weight and state
    give it traffic is changed first (and waited for until it is up); the others after, so a
    backend never has less serving weight than at the start or at the end of the change.
    """
    up, down = [], []
    for item in wanted:
        was = before[(item["backend"], item["server"])]
        if was["weight"] == item["weight"] and was["state"] == item["state"]:
            continue
        (up if takes_traffic(item) else down).append(item)
    return up, down


def is_up(row):
    """HAProxy's health checks say the server answers (``UP``, ``UP 1/3`` while going down counts;
    ``no check`` is a server without checks)."""
    status = (row or {}).get("status", "").strip().upper()
    return status.startswith("UP") or status == "NO CHECK"

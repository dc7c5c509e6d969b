# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: releases, instance slots and the traffic split of each service.

The deploy state (``acgs_deploy_state_file`` on the hosts, JSON) records per service
which release each slot (blue, green) runs, its HAProxy weight, whether it runs, and the
faults of its configuration::

    {"services": {"auth-service": {
        "active": "green", "release": "0.2.0", "deployment_id": "deploy-1764265000",
        "slots": {"blue": {"release": "0.1.0", "weight": 0, "running": true, "faults": {}},
                  "green": {"release": "0.2.0", "weight": 100, "running": true, "faults": {}}}}}}

A service the file does not name runs ``default_version`` in blue with all traffic. The
functions here are pure (no I/O): the roles read and write the file, the filter
``acgs.platform.release_slots`` and the playbooks call these. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.acgs.platform.plugins.module_utils.catalog import SLOTS

VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$")
MAX_WEIGHT = 100


class ReleaseError(ValueError):
    """A release, a state or a step list that cannot be used."""


def _plain(data):
    """A deep copy of JSON data (copy.deepcopy of Ansible's tagged values is slow)."""
    return json.loads(json.dumps(data))


def validate_version(value, what="acgs_release"):
    """The version string, or raise naming what is wrong (it becomes a directory name)."""
    text = "" if value is None else str(value).strip()
    if not VERSION_RE.match(text) or ".." in text:
        raise ReleaseError("%s %r is not a release version: use 1-64 letters, digits, '.', '+', '_' or '-', "
                           "starting with a letter or digit (for example 0.2.0)" % (what, value))
    return text


def validate_steps(steps, what="acgs_blue_green_steps"):
    """Traffic percentages for the new slot: increasing integers in 1-100 ending at 100."""
    if not isinstance(steps, (list, tuple)) or not steps:
        raise ReleaseError("%s must be a non-empty list of percentages ending at 100" % what)
    out = []
    for step in steps:
        try:
            value = int(step)
        except (TypeError, ValueError):
            raise ReleaseError("%s: %r is not a percentage" % (what, step))
        if not 1 <= value <= MAX_WEIGHT or (out and value <= out[-1]):
            raise ReleaseError("%s must increase within 1-100: %r" % (what, list(steps)))
        out.append(value)
    if out[-1] != MAX_WEIGHT:
        raise ReleaseError("%s must end at 100 (all traffic on the new release): %r" % (what, list(steps)))
    return out


def other_slot(slot):
    return SLOTS[1] if slot == SLOTS[0] else SLOTS[0]


def default_service_state(version):
    return {"active": SLOTS[0], "release": version, "deployment_id": None,
            "slots": {SLOTS[0]: {"release": version, "weight": MAX_WEIGHT, "running": True, "faults": {}},
                      SLOTS[1]: {"release": None, "weight": 0, "running": False, "faults": {}}}}


def service_state(state, name, default_version):
    """The complete state of one service (missing parts from the default)."""
    recorded = ((state or {}).get("services") or {}).get(name)
    out = default_service_state(default_version)
    if not recorded:
        return out
    if recorded.get("active") in SLOTS:
        out["active"] = recorded["active"]
    out["deployment_id"] = recorded.get("deployment_id")
    for slot in SLOTS:
        given = (recorded.get("slots") or {}).get(slot) or {}
        entry = out["slots"][slot]
        if "release" in given:
            entry["release"] = given["release"]
        for key in ("weight", "running"):
            if key in given:
                entry[key] = given[key]
        entry["faults"] = dict(given.get("faults") or {})
        entry["weight"] = int(entry["weight"])
        entry["running"] = bool(entry["running"]) and entry["release"] is not None
    out["release"] = out["slots"][out["active"]]["release"]
    return out


def release_slots(catalog, state, default_version, isolated=()):
    """Per service its complete state with ports and server names; and every installed instance.

    Returns ``{"services": {name: state}, "instances": [entry + slot fields, ...]}`` where an
    instance is a catalog entry with ``slot``, ``slot_port``, ``server``, ``release``,
    ``weight``, ``running`` and ``faults`` added. The services in ``isolated`` (a security
    incident took them out) have ``isolated`` true and both slots stopped at weight 0.
    """
    services = {}
    instances = []
    for entry in catalog:
        name = entry["name"]
        current = service_state(state, name, default_version)
        current["idle"] = other_slot(current["active"])
        current["isolated"] = name in isolated
        for slot in SLOTS:
            data = current["slots"][slot]
            if current["isolated"]:
                data.update(running=False, weight=0)
            data["port"] = entry["slot_ports"][slot]
            data["server"] = "%s-%s" % (name, slot)
            if data["release"] is not None:
                # A shallow copy: deepcopy of Ansible's tagged values costs about 1 s for the catalog.
                instance = dict(entry)
                instance.update(slot=slot, slot_port=data["port"], server=data["server"], release=data["release"],
                                weight=data["weight"], running=data["running"], faults=dict(data["faults"]))
                instances.append(instance)
        services[name] = current
    return {"services": services, "instances": instances}


def is_current(current, release):
    """True when ``release`` already takes all the traffic of the service (nothing to deploy)."""
    active = current["slots"][current["active"]]
    idle = current["slots"][other_slot(current["active"])]
    return active["release"] == release and active["weight"] == MAX_WEIGHT and idle["weight"] == 0


def plan(current, release, steps, faults=None):
    """What deploying ``release`` to one service does.

    ``target``: the slot that gets the release: the idle one, unless the active slot runs
    it already with part of the traffic (an interrupted deploy, finished now). ``install``:
    the target slot's state while it is validated (weight 0, running). ``steps``: the
    weights, ``{target: w, other: 100 - w}`` for each percentage.
    """
    release = validate_version(release)
    steps = validate_steps(steps)
    if is_current(current, release):
        return {"action": "none", "release": release, "target": current["active"], "steps": []}
    active = current["active"]
    target = active if current["slots"][active]["release"] == release else other_slot(active)
    source = other_slot(target)
    was = current["slots"][target]
    install = {"release": release, "weight": was["weight"] if was["release"] == release else 0,
               "running": True, "faults": dict(faults if faults is not None else (was["faults"] if was["release"] == release else {}))}
    return {"action": "deploy", "release": release, "target": target, "source": source,
            "previous_release": current["slots"][active]["release"], "previous_slot": active,
            "install": install, "reuse": was["release"] == release and was["running"],
            "steps": [{"percent": p, "weights": {target: p, source: MAX_WEIGHT - p}} for p in steps]}


def installed(state, name, default_version, target, slot_state):
    """The whole state with the target slot of ``name`` installed as ``slot_state``."""
    out = _plain(state or {})
    services = out.setdefault("services", {})
    current = service_state(state, name, default_version)
    current["slots"][target] = dict(slot_state)
    services[name] = _strip(current)
    return out


def installed_plans(state, plans, default_version):
    """The whole state with the target slot of every service whose plan deploys installed."""
    out = state or {}
    for name in sorted(plans):
        if plans[name].get("action") == "deploy":
            out = installed(out, name, default_version, plans[name]["target"], plans[name]["install"])
    return _plain(out)


def promoted(state, name, default_version, target, deployment_id, keep_old=True):
    """The whole state after all traffic of ``name`` moved to ``target``."""
    out = _plain(state or {})
    current = service_state(state, name, default_version)
    source = other_slot(target)
    current["active"] = target
    current["release"] = current["slots"][target]["release"]
    current["deployment_id"] = deployment_id
    current["slots"][target]["weight"] = MAX_WEIGHT
    current["slots"][target]["running"] = True
    current["slots"][source]["weight"] = 0
    if not keep_old:
        current["slots"][source]["running"] = False
    out.setdefault("services", {})[name] = _strip(current)
    return out


def promoted_plans(state, plans, names, default_version, deployment_id, keep_old=True):
    """The whole state after all traffic of each service of ``names`` moved to its plan's target."""
    out = state or {}
    for name in names:
        if (plans.get(name) or {}).get("action") != "deploy":
            raise ReleaseError("%s has no deploy plan" % name)
        out = promoted(out, name, default_version, plans[name]["target"], deployment_id, keep_old)
    return _plain(out)


def _strip(current):
    keep = dict((key, current[key]) for key in ("active", "release", "deployment_id"))
    keep["slots"] = dict((slot, dict((key, current["slots"][slot][key]) for key in ("release", "weight", "running", "faults")))
                         for slot in SLOTS)
    return keep


def traffic(plans, names, suffixes, percent):
    """The servers of a wave of services with ``percent`` of each one's traffic on its target slot.

    ``plans``: release plans by service (action deploy); ``suffixes``: the server name suffix of
    each instance host (one server per slot and host). 0 puts everything back on the source slot.
    Every server is left ready, so the slot without traffic stays up for an instant rollback.
    """
    if not 0 <= int(percent) <= MAX_WEIGHT:
        raise ReleaseError("percent %r is outside 0..%d" % (percent, MAX_WEIGHT))
    servers = []
    for name in names:
        current = plans.get(name) or {}
        if current.get("action") != "deploy":
            raise ReleaseError("%s has no deploy plan" % name)
        for slot, weight in ((current["target"], int(percent)), (current["source"], MAX_WEIGHT - int(percent))):
            for suffix in suffixes:
                servers.append({"backend": "be_" + name, "server": "%s-%s%s" % (name, slot, suffix),
                                "weight": weight, "state": "ready"})
    return servers


def waves(order, critical, size=0):
    """``order`` cut into the waves a blue-green deploy moves together: runs of services of the same
    kind (critical or not, as ``critical`` names them), each cut to ``size`` services (0: no limit)."""
    if int(size) < 0:
        raise ReleaseError("acgs_blue_green_wave_size must be 0 (no limit) or more, not %r" % (size,))
    out, current, kind = [], [], None
    for name in order:
        this = name in critical
        if current and (this != kind or (int(size) and len(current) >= int(size))):
            out.append(current)
            current = []
        current.append(name)
        kind = this
    if current:
        out.append(current)
    return out

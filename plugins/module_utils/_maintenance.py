# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: what the ACGS weekly and monthly maintenance runs make of what they read.

- ``apt_plan``: the packages ``apt-get -s`` would upgrade, each with the origins of its new
  version, split into those a security origin ships and the rest (security updates only).
- ``restarts``: processes that still map files a package upgrade replaced (``(deleted)`` in
  ``/proc/PID/maps``), mapped to the ACGS component whose lifecycle actions restart them.
- ``trend``: a least-squares line through a Prometheus range query's samples and the days until
  it reaches a limit, or "no trend" when the data is too short or too sparse.

The acgs.platform.maintenance_apt, maintenance_restarts and maintenance_trend filters call these.
Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import os
import re


class MaintenanceError(ValueError):
    """Input that cannot be read; the message names what is wrong."""


# --- security updates ----------------------------------------------------------------------

# Inst libexpat1 [2.5.0-1+deb12u1] (2.5.0-1+deb12u5 Debian-Security:12/oldstable-security [amd64]) []
_INST = re.compile(r"^Inst (?P<name>\S+)(?: \[(?P<old>[^\]]*)\])? \((?P<new>\S+) (?P<origins>.*?) \[(?P<arch>[^\]]+)\]\)")
_REMV = re.compile(r"^Remv (?P<name>\S+)(?: \[(?P<old>[^\]]*)\])?")


def apt_plan(output, security_regex=r"-security$"):
    """What ``apt-get -s upgrade`` (or ``install``) would do: upgrades split by origin, and removals.

    Each origin is apt's ``Label:Version/Archive`` (``Debian-Security:12/oldstable-security``);
    a package is a security update when one of its new version's origins matches ``security_regex``.
    """
    if output is None:
        raise MaintenanceError("apt_plan: no apt-get -s output")
    try:
        pattern = re.compile(security_regex)
    except re.error as exc:
        raise MaintenanceError("apt_plan: security_regex %r is not a regular expression: %s" % (security_regex, exc))
    security, other, removed = [], [], []
    for line in str(output).splitlines():
        match = _INST.match(line.strip())
        if match:
            origins = [o.strip() for o in match.group("origins").split(",") if o.strip()]
            entry = {"name": match.group("name"), "from": match.group("old"), "to": match.group("new"),
                     "origins": origins, "arch": match.group("arch")}
            entry["security"] = any(pattern.search(o) for o in origins)
            (security if entry["security"] else other).append(entry)
            continue
        match = _REMV.match(line.strip())
        if match:
            removed.append({"name": match.group("name"), "version": match.group("old")})
    return {
        "security": security,
        "other": other,
        "removed": removed,
        # apt-get install arguments that pin each security update to the version the security origin ships
        "install": ["%s=%s" % (e["name"], e["to"]) for e in security],
    }


# --- restarts after an upgrade --------------------------------------------------------------

# Components whose lifecycle actions (roles/<role>/tasks/stop.yml, start.yml) restart them, in the
# order lifecycle.yml starts them; keyed by the program's file name.
PROGRAMS = (
    ("postgres", "postgresql"),
    ("redis-server", "redis"),
    ("nats-server", "nats"),
    ("haproxy", "haproxy"),
    ("prometheus-node-exporter", "node_exporter"),
    ("prometheus-alertmanager", "alertmanager"),
    ("prometheus", "prometheus"),
    ("prometheus-blackbox-exporter", "blackbox"),
    ("acgs-remediation", "remediator"),
)
ORDER = ["postgresql", "redis", "nats", "services", "haproxy", "node_exporter", "alertmanager", "prometheus",
         "blackbox", "remediator"]
_SERVICE_CONFIG = re.compile(r"^(?P<name>.+)-(?P<slot>blue|green)\.json$")
_PG_TITLE = re.compile(r"^postgres: (?P<version>\d+)/(?P<cluster>[^:\s]+)")
_REDIS_TITLE = re.compile(r"^\S*redis-server \S*:(?P<port>\d+)(\s|$)")


def _process(line):
    """``pid<TAB>comm<TAB>cmdline<TAB>file file ...`` from the role's /proc scan."""
    parts = line.rstrip("\n").split("\t")
    if len(parts) < 3 or not parts[0].strip().isdigit():
        raise MaintenanceError("restarts: %r is not 'pid<TAB>comm<TAB>cmdline<TAB>files'" % (line,))
    files = parts[3].split() if len(parts) > 3 else []
    return {"pid": int(parts[0]), "comm": parts[1].strip(), "cmdline": parts[2].strip(), "files": files}


def _component(proc, services, cluster, redis_port):
    argv = proc["cmdline"].split()
    title = _PG_TITLE.match(proc["cmdline"])
    if title:
        return ("postgresql", None) if title.group("cluster") == cluster else \
            (None, "PostgreSQL cluster %s is not the ACGS cluster %s" % (title.group("cluster"), cluster))
    if proc["cmdline"].startswith("postgres: "):
        # pg_createcluster names every Debian cluster (cluster_name, in the title): this server is no cluster of it
        return None, "a PostgreSQL server without a Debian cluster name is not the ACGS cluster %s" % cluster
    port = _REDIS_TITLE.match(proc["cmdline"])
    if redis_port is not None and port and int(port.group("port")) != int(redis_port):
        return None, "Redis on port %s is not the ACGS Redis (port %s)" % (port.group("port"), redis_port)
    if "--config" in argv[:-1]:
        config = _SERVICE_CONFIG.match(os.path.basename(argv[argv.index("--config") + 1]))
        if config and config.group("name") in services:
            return "service:" + config.group("name"), None
    names = [os.path.basename(a) for a in argv[:2]] + [proc["comm"]]
    if "supervisord" in names:
        return None, "the process manager itself: restarting it restarts every program it runs (do it by hand)"
    for program, role in PROGRAMS:
        if program in names:
            if role == "postgresql" and "-D" in argv[:-1] and os.path.basename(argv[argv.index("-D") + 1].rstrip("/")) != cluster:
                return None, "PostgreSQL cluster %s is not the ACGS cluster %s" % (argv[argv.index("-D") + 1], cluster)
            return role, None
    return None, "not an ACGS component"


def restarts(lines, services, cluster="main", redis_port=None):
    """The ACGS components to restart (lifecycle order) and the services, from the /proc scan's lines.

    PostgreSQL counts only for the ACGS cluster ``cluster``, Redis only on ``redis_port`` when given:
    a test's or another application's servers on the host are not the lifecycle actions' to restart.
    """
    if isinstance(lines, str):
        lines = lines.splitlines()
    services = set(services or [])
    components, names, processes, left = [], [], [], []
    for line in lines or []:
        if not line.strip():
            continue
        proc = _process(line)
        component, why = _component(proc, services, cluster, redis_port)
        proc["component"] = component
        if component is None:
            proc["why_not_restarted"] = why
            left.append(proc)
            continue
        processes.append(proc)
        if component.startswith("service:"):
            if component[8:] not in names:
                names.append(component[8:])
            component = "services"
        if component not in components:
            components.append(component)
    return {
        "components": sorted(components, key=ORDER.index),
        "services": sorted(names),
        "processes": processes,
        "not_restarted": left,
    }


# --- capacity trends ------------------------------------------------------------------------


def _samples(series, what):
    points = []
    for sample in series.get("values") or []:
        try:
            t, v = float(sample[0]), float(sample[1])
        except (TypeError, ValueError, IndexError):
            raise MaintenanceError("%s: sample %r is not [time, value]" % (what, sample))
        if not (math.isnan(v) or math.isinf(v)):  # NaN and infinities carry no trend
            points.append((t, v))
    return points


def _line(points):
    n = float(len(points))
    mean_t = sum(p[0] for p in points) / n
    mean_v = sum(p[1] for p in points) / n
    var = sum((p[0] - mean_t) ** 2 for p in points)
    if var == 0:
        return None
    slope = sum((p[0] - mean_t) * (p[1] - mean_v) for p in points) / var
    return slope, mean_v - slope * mean_t


def _num(value):
    return "%.4g" % value


def _judge(fitted, points, limit):
    """Growth per day of the fitted line and, against ``limit``, the days until it reaches it."""
    slope, intercept = fitted
    per_day = slope * 86400.0
    growth = "growing" if per_day > 0 else ("shrinking" if per_day < 0 else "flat")
    judged = {"per_day": per_day, "trend": growth, "days_to_limit": None}
    if limit is None:
        judged["verdict"] = "%s by %s per day (no limit set)" % (growth, _num(per_day))
    elif points[-1][1] >= limit:
        judged["days_to_limit"] = 0.0
        judged["verdict"] = "at or over the limit %s now (%s)" % (_num(limit), _num(points[-1][1]))
    elif per_day <= 0:
        judged["verdict"] = "%s by %s per day: does not reach the limit %s at this trend" % (growth, _num(per_day), _num(limit))
    else:
        at_last = slope * points[-1][0] + intercept
        days = max(0.0, (limit - at_last) / per_day)
        judged["days_to_limit"] = days
        judged["verdict"] = "growing by %s per day: reaches the limit %s in %.1f days" % (_num(per_day), _num(limit), days)
    return judged


def trend(result, limit=None, min_points=10, min_span_seconds=86400, what="series"):
    """Per series of a Prometheus ``query_range`` result: current value, growth per day and days to ``limit``.

    ``result`` is the API's ``data.result`` (a list of ``{metric, values}``). A series with fewer than
    ``min_points`` samples or spanning less than ``min_span_seconds`` has "no trend". The days until
    the limit are counted from the last sample along the fitted line; none when it does not grow.
    """
    if not isinstance(result, list):
        raise MaintenanceError("%s: expected Prometheus's data.result list, got %r" % (what, result))
    if limit is not None:
        try:
            limit = float(limit)
        except (TypeError, ValueError):
            raise MaintenanceError("%s: limit %r is not a number" % (what, limit))
    out = []
    for series in result:
        if not isinstance(series, dict):
            raise MaintenanceError("%s: series %r is not a dict with metric and values" % (what, series))
        points = _samples(series, what)
        entry = {"labels": series.get("metric") or {}, "points": len(points), "limit": limit,
                 "current": points[-1][1] if points else None,
                 "span_seconds": (points[-1][0] - points[0][0]) if points else 0.0,
                 "per_day": None, "days_to_limit": None, "trend": "no trend"}
        fitted = _line(points) if len(points) >= max(2, int(min_points)) and entry["span_seconds"] >= float(min_span_seconds) else None
        if fitted is None:
            entry["verdict"] = "no trend (%d samples over %.1f h; needs %d over %.1f h)" % (
                len(points), entry["span_seconds"] / 3600.0, int(min_points), float(min_span_seconds) / 3600.0)
            out.append(entry)
            continue
        entry.update(_judge(fitted, points, limit))
        out.append(entry)
    return out

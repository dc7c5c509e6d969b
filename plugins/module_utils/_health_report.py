# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the health summary of the ACGS platform, as text lines for a terminal.

From an acgs_health result, and optionally an acgs_hash_check result, the
platform status and a table of services and dependencies, each row naming the
URL or address probed. acgs_health returns its own table (``summary_lines``);
the acgs.platform.health_report filter adds the hashes. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# What a registered result must hold, by the module that returns it.
REQUIRED_KEYS = {
    "acgs_health": ("status", "services", "dependencies", "summary", "reasons", "elapsed_ms"),
    "acgs_hash_check": ("compliant", "compliance_percent", "services", "files", "mismatches"),
}


def check(health, hash_result=None):
    """Raise ValueError unless the arguments look like registered acgs_health / acgs_hash_check results."""
    given = [("health result", "acgs_health", health)]
    if hash_result is not None:
        given.append(("hash result", "acgs_hash_check", hash_result))
    for what, module, value in given:
        if not isinstance(value, dict):
            raise ValueError("the %s must be a dictionary (a registered result), got %s" % (what, type(value).__name__))
        lacking = [key for key in REQUIRED_KEYS[module] if key not in value]
        if lacking:
            raise ValueError("the %s lacks %s: register the result of acgs.platform.%s" % (what, ", ".join(lacking), module))


def platform_status(health, hash_result=None):
    """critical when the health is critical or a hash differs; degraded when the health is
    degraded or a hash is missing; healthy otherwise."""
    if health["status"] == "critical" or (hash_result and hash_result["mismatches"]):
        return "critical"
    if health["status"] == "degraded" or (hash_result and not hash_result["compliant"]):
        return "degraded"
    return "healthy"


def address(item):
    """What a probe reached: the URL, or host:port."""
    return item.get("url") or "%s:%s" % (item.get("host"), item.get("port"))


def hash_reasons(hash_result):
    """Why services and files are not compliant, each naming where the hash was looked for."""
    items = (hash_result or {}).get("services", []) + (hash_result or {}).get("files", [])
    return ["constitutional hash of %s at %s: %s" % (item["name"], item.get("source_url") or item.get("url") or item.get("path"),
                                                     item["error"]) for item in items if item.get("error")]


def _ms(value):
    return "-" if value is None else "%d ms" % value


def _details(dep):
    info = dep.get("details") or {}
    if dep["type"] == "postgresql" and info.get("connections") is not None:
        return "pool %s%% (%s/%s connections)" % (info["pool_usage_percent"], info["connections"], info["max_connections"])
    if dep["type"] == "redis" and info.get("redis_version"):
        rate = "n/a" if info.get("hit_rate_percent") is None else "%s%%" % info["hit_rate_percent"]
        return "version %s, hit rate %s" % (info["redis_version"], rate)
    if dep["type"] == "nats" and info.get("version"):
        return "version %s, JetStream %s" % (info["version"], "on" if info.get("jetstream") else "off")
    return ""


def table_lines(health, hashes=None):
    """The service and dependency tables; with ``hashes`` (service name -> hash) a HASH column."""
    service_format = "%-18s %-9s %-10s %-5s %8s  %-9s " + ("%-16s " if hashes is not None else "") + "%s"
    header = ("SERVICE", "CRIT", "STATUS", "HTTP", "LATENCY", "VERSION") + (("HASH",) if hashes is not None else ()) + ("URL",)
    lines = [service_format % header]
    for svc in health["services"]:
        row = (svc["name"], svc["criticality"], svc["status"], svc.get("http_status") or "-", _ms(svc.get("latency_ms")),
               svc.get("version") or "-")
        row += ((hashes.get(svc["name"]) or "-",) if hashes is not None else ()) + (svc.get("url") or "-",)
        lines.append(service_format % row)
    dep_format = "%-18s %-10s %-10s %8s  %-22s %s"
    lines.append(dep_format % ("DEPENDENCY", "TYPE", "STATUS", "LATENCY", "ADDRESS", "DETAILS"))
    for dep in health["dependencies"]:
        lines.append((dep_format % (dep["name"], dep["type"], dep["status"], _ms(dep.get("latency_ms")), address(dep),
                                    dep.get("error") or _details(dep))).rstrip())
    return lines


def report(health, hash_result=None):
    """{status, lines, reasons}: the platform status, the summary table and why it is not healthy."""
    check(health, hash_result)
    status = platform_status(health, hash_result)
    counts = health["summary"]
    headline = "ACGS platform: %s   services %s/%s healthy, dependencies %s/%s healthy" % (
        status.upper(), counts["services"]["healthy"], counts["services"]["total"],
        counts["dependencies"]["healthy"], counts["dependencies"]["total"])
    hashes = None
    if hash_result is not None:
        headline += ", constitutional compliance %s%%" % hash_result["compliance_percent"]
        hashes = dict((svc["name"], svc.get("hash")) for svc in hash_result["services"])
    reasons = list(health["reasons"]) + hash_reasons(hash_result)
    lines = [headline + " (%s ms)" % health["elapsed_ms"]] + table_lines(health, hashes) + ["! " + r for r in reasons]
    return {"status": status, "lines": lines, "reasons": reasons}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ACGS service catalog: the one place the runbook's service table lives.

Roles read it through the ``acgs.platform.service_catalog`` lookup, modules use it
for their defaults. Inventories override ports, hosts and the hash; the
validation here is what the site.yml prechecks run before anything changes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

CONSTITUTIONAL_HASH = "cdd01ef066bc6cf2"

CRITICALITIES = ("critical", "medium", "low")

# Infrastructure a service may depend on, and whether losing it makes the
# service unhealthy. OPA is not packaged for Debian, so a dependency on it is
# reported but does not make a service unhealthy.
COMPONENTS = {
    "postgresql": {"required": True},
    "redis": {"required": True},
    "nats": {"required": True},
    "opa": {"required": False},
}

# Where the infrastructure listens unless the inventory says otherwise (acgs_postgresql_port
# and friends): the modules' defaults, and roles/common/defaults through the
# service_catalog lookup's ``infrastructure`` term.
INFRASTRUCTURE_PORTS = {"postgresql": 5432, "redis": 6379, "nats": 4222, "nats_monitor": 8222,
                        "haproxy_stats": 8404, "prometheus": 9090, "alertmanager": 9093,
                        "blackbox": 9115, "node_exporter": 9100,
                        # Level 1 remediation's webhook receiver (roles/remediator)
                        "remediation": 9096}

# The runbook's "Core Services" table.
SERVICES = (
    {"name": "auth-service", "port": 8000, "purpose": "Authentication & Authorization",
     "criticality": "critical", "dependencies": ["postgresql", "redis"]},
    {"name": "ac-service", "port": 8001, "purpose": "Constitutional Compliance",
     "criticality": "critical", "dependencies": ["postgresql", "opa"]},
    {"name": "integrity-service", "port": 8002, "purpose": "Data Integrity Validation",
     "criticality": "critical", "dependencies": ["postgresql"]},
    {"name": "fv-service", "port": 8003, "purpose": "Formal Verification",
     "criticality": "medium", "dependencies": ["postgresql"]},
    {"name": "gs-service", "port": 8004, "purpose": "Governance System",
     "criticality": "medium", "dependencies": ["postgresql", "nats"]},
    {"name": "pgc-service", "port": 8005, "purpose": "Policy Generation & Compliance",
     "criticality": "medium", "dependencies": ["postgresql", "redis"]},
    {"name": "ec-service", "port": 8006, "purpose": "Evolutionary Computation",
     "criticality": "critical", "dependencies": ["postgresql", "redis"]},
)

# Where the instances listen and where HAProxy offers TLS, relative to the
# public port that HAProxy owns (8000 -> instance 18000, TLS 9000).
INSTANCE_PORT_OFFSET = 10000
TLS_PORT_OFFSET = 1000
# Each service has two instance slots for blue-green and canary deploys: blue listens on
# the instance port, green on the instance port + GREEN_PORT_OFFSET (18000 -> 18100).
SLOTS = ("blue", "green")
GREEN_PORT_OFFSET = 100
DEFAULT_HOST = "127.0.0.1"

HASH_RE = re.compile(r"^[0-9a-f]{16,64}$")
NAME_RE = re.compile(r"^[a-z][a-z0-9-]*$")
SERVICE_KEYS = ("name", "port", "instance_port", "green_port", "tls_port", "host", "purpose",
                "criticality", "dependencies")
# Derived, never given: blue_port (= instance_port) and slot_ports ({blue: ..., green: ...}).
PORT_KEYS = ("port", "instance_port", "green_port", "tls_port")


class CatalogError(ValueError):
    """An override or catalog entry that cannot be deployed."""


def validate_hash(value, what="constitutional hash"):
    """Return the hash lower-cased, or raise naming what is wrong with it."""
    text = str(value).strip().lower() if value is not None else ""
    if not HASH_RE.match(text):
        raise CatalogError(
            "%s %r is malformed: expected 16 to 64 hexadecimal characters" % (what, value))
    return text


def build_catalog(overrides=None, host=None, extra_services=None):
    """The catalog with inventory overrides applied, each entry complete.

    ``overrides`` maps a service name to the keys to change; ``extra_services``
    adds entries the runbook does not name. Ports that are not given are derived
    from ``port`` with the offsets above.
    """
    overrides = overrides or {}
    if not isinstance(overrides, dict):
        raise CatalogError("acgs_service_overrides must be a mapping of service name to settings")
    known = set(s["name"] for s in SERVICES)
    for name in overrides:
        if name not in known:
            raise CatalogError("acgs_service_overrides names unknown service %r (known: %s)"
                               % (name, ", ".join(sorted(known))))
    entries = []
    for base in list(SERVICES) + list(extra_services or []):
        entry = copy.deepcopy(base)
        entry.update(copy.deepcopy(overrides.get(entry.get("name"), {})))
        unknown = set(entry) - set(SERVICE_KEYS)
        if unknown:
            raise CatalogError("service %r has unknown setting(s): %s"
                               % (entry.get("name"), ", ".join(sorted(unknown))))
        entries.append(_complete(entry, host))
    validate_services(entries)
    return entries


def _as_port(entry, key):
    value = entry.get(key)
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise CatalogError("service %r: %s %r is not a port number" % (entry.get("name"), key, value))
    if not 1 <= port <= 65535:
        raise CatalogError("service %r: %s %d is outside 1-65535" % (entry.get("name"), key, port))
    return port


def _complete(entry, host):
    name = entry.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise CatalogError("service name %r is malformed: use lower-case letters, digits and '-'" % (name,))
    entry["port"] = _as_port(entry, "port")
    entry.setdefault("instance_port", entry["port"] + INSTANCE_PORT_OFFSET)
    entry.setdefault("tls_port", entry["port"] + TLS_PORT_OFFSET)
    entry["instance_port"] = _as_port(entry, "instance_port")
    entry["tls_port"] = _as_port(entry, "tls_port")
    entry.setdefault("green_port", entry["instance_port"] + GREEN_PORT_OFFSET)
    entry["green_port"] = _as_port(entry, "green_port")
    entry["blue_port"] = entry["instance_port"]
    entry["slot_ports"] = {"blue": entry["blue_port"], "green": entry["green_port"]}
    entry.setdefault("host", host or DEFAULT_HOST)
    entry.setdefault("purpose", "")
    entry.setdefault("criticality", "medium")
    entry.setdefault("dependencies", [])
    return entry


def validate_services(entries, reserved_ports=None):
    """Raise CatalogError naming the first entry that cannot be deployed.

    Checks what kolla-style prechecks check before anything changes: each port
    used once (service, instance (blue), green and TLS ports, and ``reserved_ports`` of the
    infrastructure), criticality known, dependencies known, names unique.
    """
    seen_ports = {}
    for component, port in sorted((reserved_ports or {}).items()):
        seen_ports[(DEFAULT_HOST, int(port))] = component
    seen_names = set()
    for entry in entries:
        name = entry["name"]
        if name in seen_names:
            raise CatalogError("service %r is listed twice" % name)
        seen_names.add(name)
        if entry["criticality"] not in CRITICALITIES:
            raise CatalogError("service %r: unknown criticality %r (expected one of %s)"
                               % (name, entry["criticality"], ", ".join(CRITICALITIES)))
        deps = entry["dependencies"]
        if not isinstance(deps, list):
            raise CatalogError("service %r: dependencies must be a list" % name)
        for dep in deps:
            if dep not in COMPONENTS:
                raise CatalogError("service %r depends on unknown component %r (known: %s)"
                                   % (name, dep, ", ".join(sorted(COMPONENTS))))
        for key in PORT_KEYS:
            # Instances listen on loopback beside HAProxy, so all ports share one space.
            slot = (DEFAULT_HOST, entry[key])
            if slot in seen_ports:
                raise CatalogError("port collision: service %r %s %d is already used by %s"
                                   % (name, key, entry[key], seen_ports[slot]))
            seen_ports[slot] = "%s %s" % (name, key)
    return entries


def by_name(entries):
    """Map service name to entry."""
    return dict((entry["name"], entry) for entry in entries)

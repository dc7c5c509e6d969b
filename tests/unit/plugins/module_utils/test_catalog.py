# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import catalog


def test_runbook_table():
    entries = catalog.build_catalog()
    assert [(e["name"], e["port"]) for e in entries] == [
        ("auth-service", 8000), ("ac-service", 8001), ("integrity-service", 8002), ("fv-service", 8003),
        ("gs-service", 8004), ("pgc-service", 8005), ("ec-service", 8006)]
    assert [e["name"] for e in entries if e["criticality"] == "critical"] == [
        "auth-service", "ac-service", "integrity-service", "ec-service"]
    assert catalog.by_name(entries)["gs-service"]["dependencies"] == ["postgresql", "nats"]


def test_derived_ports_and_host():
    entry = catalog.by_name(catalog.build_catalog(host="10.0.0.5"))["fv-service"]
    assert (entry["instance_port"], entry["tls_port"], entry["host"]) == (18003, 9003, "10.0.0.5")


def test_override_moves_port_and_derived_ports_follow():
    entry = catalog.by_name(catalog.build_catalog({"fv-service": {"port": 8103}}))["fv-service"]
    assert (entry["port"], entry["instance_port"], entry["tls_port"]) == (8103, 18103, 9103)


def test_slot_ports_derive_from_the_instance_port():
    entry = catalog.by_name(catalog.build_catalog())["auth-service"]
    assert (entry["blue_port"], entry["green_port"]) == (18000, 18100)
    assert entry["slot_ports"] == {"blue": 18000, "green": 18100}
    moved = catalog.by_name(catalog.build_catalog({"fv-service": {"port": 8103}}))["fv-service"]
    assert moved["slot_ports"] == {"blue": 18103, "green": 18203}
    given = catalog.by_name(catalog.build_catalog({"fv-service": {"green_port": 28003}}))["fv-service"]
    assert given["slot_ports"] == {"blue": 18003, "green": 28003}


def test_overrides_do_not_leak_into_the_catalog():
    catalog.build_catalog({"auth-service": {"port": 8100, "dependencies": ["postgresql"]}})
    assert catalog.SERVICES[0]["port"] == 8000
    assert catalog.SERVICES[0]["dependencies"] == ["postgresql", "redis"]


@pytest.mark.parametrize("overrides,reserved,message", [
    ({"fv-service": {"port": 8000}}, None, "port collision: service 'fv-service' port 8000 is already used by auth-service port"),
    ({"fv-service": {"instance_port": 18000}}, None, "service 'fv-service' instance_port 18000 is already used by auth-service instance_port"),
    ({"fv-service": {"instance_port": 18100}}, None,
     "service 'fv-service' instance_port 18100 is already used by auth-service green_port"),
    ({"fv-service": {"green_port": 18001}}, None, "service 'fv-service' green_port 18001 is already used by ac-service instance_port"),
    ({"fv-service": {"green_port": "x"}}, None, "service 'fv-service': green_port 'x' is not a port number"),
    ({"fv-service": {"blue_port": 18003}}, None, "service 'fv-service' has unknown setting(s): blue_port"),
    ({"gs-service": {"port": 5432}}, {"postgresql": 5432}, "is already used by postgresql"),
    ({"ec-service": {"criticality": "urgent"}}, None, "service 'ec-service': unknown criticality 'urgent'"),
    ({"ac-service": {"dependencies": ["mongodb"]}}, None, "service 'ac-service' depends on unknown component 'mongodb'"),
    ({"ac-service": {"port": "http"}}, None, "service 'ac-service': port 'http' is not a port number"),
    ({"ac-service": {"port": 70000}}, None, "port 70000 is outside 1-65535"),
    ({"ac-service": {"colour": "blue"}}, None, "service 'ac-service' has unknown setting(s): colour"),
    ({"zz-service": {"port": 8100}}, None, "unknown service 'zz-service'"),
])
def test_bad_overrides_name_the_entry(overrides, reserved, message):
    with pytest.raises(catalog.CatalogError) as err:
        catalog.validate_services(catalog.build_catalog(overrides), reserved)
    assert message in str(err.value)


@pytest.mark.parametrize("value,ok", [
    ("cdd01ef066bc6cf2", True), ("CDD01EF066BC6CF2", True), ("cdd01ef066bc6cf", False),
    ("not-a-hash", False), ("", False), (None, False), ("g" * 16, False), ("a" * 64, True), ("a" * 65, False)])
def test_hash_validation(value, ok):
    if ok:
        assert catalog.validate_hash(value) == value.lower()
    else:
        with pytest.raises(catalog.CatalogError, match="malformed"):
            catalog.validate_hash(value)


def test_infrastructure_ports_are_distinct_from_the_services():
    assert sorted(catalog.INFRASTRUCTURE_PORTS) == ["alertmanager", "blackbox", "haproxy_stats", "nats", "nats_monitor", "node_exporter",
                                                    "postgresql", "prometheus", "redis", "remediation"]
    catalog.validate_services(catalog.build_catalog(), catalog.INFRASTRUCTURE_PORTS)

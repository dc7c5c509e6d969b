# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The security scan's checks on what the stock modules and commands really return, and its report."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _security, catalog

CATALOG = catalog.build_catalog()
PORTS = dict((e["name"], e) for e in CATALOG)
INFRA = {"postgresql": catalog.INFRASTRUCTURE_PORTS["postgresql"], "redis": catalog.INFRASTRUCTURE_PORTS["redis"],
         "haproxy-stats": catalog.INFRASTRUCTURE_PORTS["haproxy_stats"]}
ALL_IN_ONE = ["database", "cache", "loadbalancer", "acgs_services"]
GROUP_LISTENERS = {"database": ["postgresql"], "cache": ["redis"],
                   "loadbalancer": ["haproxy-stats", "service:port", "service:tls_port"],
                   "acgs_services": ["service:instance_port", "service:green_port"]}
NOW = datetime.datetime(2026, 11, 27, 12, 0, 0)


def ids(findings):
    return [f["id"] for f in findings]


def severities(findings):
    return dict((f["id"], f["severity"]) for f in findings)


# --- permissions --------------------------------------------------------------------


def test_secrets_file_0600_root_passes_and_0644_is_high_naming_it():
    ok = {"exists": True, "path": "/etc/acgs/secrets.yml", "mode": "0600", "pw_name": "root", "uid": 0}
    assert _security.file_permissions([ok], "0600", "root", "secrets file", "secrets-file") == []
    assert _security.file_permissions([dict(ok, mode="0400")], "0600", "root", "secrets file", "secrets-file") == []
    found = _security.file_permissions([dict(ok, mode="0644")], "0600", "root", "secrets file", "secrets-file")
    assert severities(found) == {"secrets-file-permissions:/etc/acgs/secrets.yml": "high"}
    assert "/etc/acgs/secrets.yml is world-readable (mode 0644)" in found[0]["title"]
    assert "chmod 0600" in found[0]["detail"]


def test_group_readable_write_only_and_owner_are_high():
    base = {"path": "/s", "pw_name": "root"}
    assert "group-readable" in _security.file_permissions([dict(base, mode="0640")], "0600", "root", "f", "x")[0]["title"]
    assert "writable by group or world" in _security.file_permissions([dict(base, mode="0602")], "0600", "root", "f", "x")[0]["title"]
    found = _security.file_permissions([dict(base, mode="0600", pw_name="acgs")], "0600", "root", "secrets file", "secrets-file")
    assert severities(found) == {"secrets-file-owner:/s": "high"}


def test_config_files_may_be_group_readable_not_world():
    files = [{"path": "/etc/acgs/services/a.json", "mode": "0640", "pw_name": "root"},
             {"path": "/etc/acgs/services/b.json", "mode": "0644", "pw_name": "root"}]
    assert ids(_security.file_permissions(files, "0640", "root", "service configuration", "config-file")) == [
        "config-file-permissions:/etc/acgs/services/b.json"]


def test_missing_secrets_file_is_unchecked():
    found = _security.file_permissions([{"exists": False, "path": "/etc/acgs/secrets.yml"}], "0600", "root", "secrets file", "secrets-file")
    assert severities(found) == {"secrets-file-missing": "medium"}


def test_bad_mode_names_it():
    with pytest.raises(_security.SecurityError, match="'rw-' is not an octal mode"):
        _security.file_permissions([{"path": "/s", "mode": "rw-", "pw_name": "root"}], "0600", "root", "f", "x")


# --- TLS ----------------------------------------------------------------------------


def cert(port, not_after, not_before="20260101000000Z", serial=7):
    return {"item": {"tls_port": port}, "not_after": not_after, "not_before": not_before, "serial_number": serial,
            "expired": False, "failed": False}


def test_one_finding_per_certificate_by_days_left():
    tls = PORTS["auth-service"]["tls_port"], PORTS["ac-service"]["tls_port"]
    valid = [cert(tls[0], "20280101000000Z"), cert(tls[1], "20280101000000Z")]
    assert _security.tls(valid, 30, NOW) == []
    expiring = [cert(p, "20261207120000Z") for p in tls]
    found = _security.tls(expiring, 30, NOW)
    assert severities(found) == {"tls-expiring:%d" % tls[0]: "medium"}
    assert "ports %d, %d expires in 10.0 days" % tls in found[0]["title"]
    assert _security.tls(expiring, 5, NOW) == []


def test_expired_and_not_yet_valid_are_high():
    port = PORTS["auth-service"]["tls_port"]
    assert severities(_security.tls([cert(port, "20261127115959Z")], 30, NOW)) == {"tls-expired:%d" % port: "high"}
    assert severities(_security.tls([cert(port, "20280101000000Z", not_before="20261128000000Z")], 30, NOW)) == {
        "tls-not-yet-valid:%d" % port: "high"}


def test_unreachable_tls_port_is_unchecked():
    port = PORTS["auth-service"]["tls_port"]
    failed = {"item": {"tls_port": port}, "failed": False, "msg": "Failed to get cert from 127.0.0.1:%d, error: [Errno 111]" % port}
    found = _security.tls([failed], 30, NOW)
    assert severities(found) == {"tls-unchecked:%d" % port: "medium"}
    assert "Errno 111" in found[0]["detail"]


# --- listeners ----------------------------------------------------------------------

# ss -Htlnp as it prints on the all-in-one host (process names as ss shows them).
SS = "\n".join([
    "LISTEN 0      444    127.0.0.1:%d 0.0.0.0:* users:((\"postgres\",pid=6227,fd=5))" % INFRA["postgresql"],
    "LISTEN 0      511    127.0.0.1:%d 0.0.0.0:* users:((\"redis-server\",pid=6568,fd=6))" % INFRA["redis"],
    "LISTEN 0      4096   127.0.0.1:%d 0.0.0.0:* users:((\"haproxy\",pid=11481,fd=6))" % PORTS["auth-service"]["port"],
    "LISTEN 0      4096   127.0.0.1:%d 0.0.0.0:* users:((\"haproxy\",pid=11481,fd=7))" % PORTS["auth-service"]["tls_port"],
    "LISTEN 0      4096   127.0.0.1:%d 0.0.0.0:* users:((\"python3\",pid=300,fd=3))" % PORTS["auth-service"]["instance_port"],
    "LISTEN 0      244    127.0.0.1:5595 0.0.0.0:* users:((\"postgres\",pid=6166,fd=5))",
    "LISTEN 0      128      0.0.0.0:2024 0.0.0.0:*",
])


def expected(groups=None, catalog_entries=None):
    return _security.expected_ports(catalog_entries or CATALOG, INFRA, ALL_IN_ONE if groups is None else groups, GROUP_LISTENERS)


def test_parse_ss_ipv4_ipv6_interface_and_no_process():
    sockets = _security.parse_ss(SS + "\nLISTEN 0 128 [::]:22 [::]:* users:((\"sshd\",pid=1,fd=4))\n"
                                      "LISTEN 0 4096 127.0.0.53%lo:53 0.0.0.0:* users:((\"systemd-resolve\",pid=2,fd=1))\n"
                                      "LISTEN 0 4096 *:9100 *:*")
    assert sockets[-4] == {"address": "0.0.0.0", "port": 2024, "processes": []}
    assert sockets[-3] == {"address": "::", "port": 22, "processes": ["sshd[1]"]}
    assert sockets[-2]["address"] == "127.0.0.53"
    assert sockets[-1]["address"] == "*"
    assert sockets[0]["processes"] == ["postgres[6227]"]
    with pytest.raises(_security.SecurityError, match="cannot read the local address"):
        _security.parse_ss("LISTEN 0 1 nonsense 0.0.0.0:*")


def test_loopback():
    assert [_security.is_loopback(a) for a in ("127.0.0.1", "127.0.0.53", "::1", "::ffff:127.0.0.1")] == [True] * 4
    assert [_security.is_loopback(a) for a in ("0.0.0.0", "::", "*", "10.0.0.7")] == [False] * 4


def test_expected_ports_follow_groups_and_catalog_keys():
    ports = expected()
    assert ports[PORTS["fv-service"]["tls_port"]] == "fv-service tls_port"
    assert ports[INFRA["redis"]] == "redis"
    # the green slots' ports are expected; a catalog without them (before blue-green) expects none
    assert len([c for c in ports.values() if c.endswith("green_port")]) == 7
    plain = [dict((k, v) for k, v in e.items() if k != "green_port") for e in CATALOG]
    assert len([c for c in expected(catalog_entries=plain).values() if c.endswith("green_port")]) == 0
    assert sorted(expected(groups=["cache"])) == [INFRA["redis"]]
    with pytest.raises(_security.SecurityError, match="group cache lists 'memcached'"):
        _security.expected_ports(CATALOG, INFRA, ["cache"], {"cache": ["memcached"]})


def test_exposed_unexpected_listener_is_high_loopback_one_low():
    found = _security.listeners(SS, expected())
    assert severities(found) == {"listener-exposed:0.0.0.0:2024": "high", "listener-loopback:127.0.0.1:5595": "low"}
    exposed = [f for f in found if f["severity"] == "high"][0]
    assert exposed["title"] == "unexpected listener on 0.0.0.0:2024 (process not visible)"
    assert "postgres[6166]" in [f for f in found if f["severity"] == "low"][0]["title"]


def test_component_on_another_host_group_is_unexpected():
    found = _security.listeners(SS, expected(groups=["cache"]))
    assert "listener-loopback:127.0.0.1:%d" % INFRA["postgresql"] in ids(found)
    assert "listener-loopback:127.0.0.1:%d" % INFRA["redis"] not in ids(found)


def test_expected_component_on_every_address_is_medium():
    wildcard = "LISTEN 0 511 0.0.0.0:%d 0.0.0.0:* users:((\"redis-server\",pid=1,fd=6))\n" % INFRA["redis"]
    wildcard6 = "LISTEN 0 511 [::]:%d [::]:* users:((\"redis-server\",pid=1,fd=7))" % INFRA["redis"]
    assert severities(_security.listeners(wildcard + wildcard6, expected())) == {
        "listener-wildcard:0.0.0.0:%d" % INFRA["redis"]: "medium", "listener-wildcard:[::]:%d" % INFRA["redis"]: "medium"}
    on_its_address = "LISTEN 0 511 10.20.0.12:%d 0.0.0.0:* users:((\"redis-server\",pid=1,fd=6))" % INFRA["redis"]
    assert _security.listeners(on_its_address, expected()) == []


def test_allowed_listeners_are_info_naming_the_entry_others_stay_high():
    # the sandbox's 0.0.0.0:2024 (no process visible) accepted by address and port
    found = _security.listeners(SS, expected(), ["0.0.0.0:2024"])
    assert severities(found) == {"listener-accepted:0.0.0.0:2024": "info", "listener-loopback:127.0.0.1:5595": "low"}
    accepted = [f for f in found if f["severity"] == "info"][0]
    assert accepted["title"] == "listener on 0.0.0.0:2024 (process not visible) accepted by acgs_security_allowed_listeners"
    assert accepted["detail"] == "entry 0.0.0.0:2024"
    sshd = "LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:((\"sshd\",pid=1,fd=4))\nLISTEN 0 128 [::]:22 [::]:* users:((\"sshd\",pid=1,fd=5))"
    assert severities(_security.listeners(sshd, {}, [":22"])) == {"listener-accepted:0.0.0.0:22": "info", "listener-accepted:[::]:22": "info"}
    assert severities(_security.listeners(sshd, {}, ["[::]:22"])) == {"listener-exposed:0.0.0.0:22": "high", "listener-accepted:[::]:22": "info"}
    # another port, or the accepted port on another address, is still a high finding
    assert severities(_security.listeners(sshd, {}, ["0.0.0.0:2024", "10.0.0.1:22"])) == {
        "listener-exposed:0.0.0.0:22": "high", "listener-exposed:[::]:22": "high"}
    assert "list 0.0.0.0:22 in acgs_security_allowed_listeners" in _security.listeners(sshd, {})[0]["detail"]


@pytest.mark.parametrize("entry", ["2024", 2024, "0.0.0.0:", "0.0.0.0:http", ":0", ":70000", "[]:22", {"port": 22}, None, True])
def test_allowed_listener_bad_entry_names_it(entry):
    with pytest.raises(_security.SecurityError, match="acgs_security_allowed_listeners entry .* is not ADDRESS:PORT or :PORT"):
        _security.listeners("", {}, [entry])


def test_accepted_listener_does_not_fail_the_scan():
    out = _security.report({"listeners": _security.listeners(SS, expected(), [":2024"])}, "localhost", "low", "t")
    assert out["report"]["passed"] is False  # the loopback one is low
    out = _security.report({"listeners": _security.listeners(SS, expected(), [":2024"])}, "localhost", "high", "t")
    assert out["report"]["passed"] is True and out["report"]["summary"]["info"] == 1
    assert "INFO     listener-accepted:0.0.0.0:2024: listener on 0.0.0.0:2024 (process not visible) accepted by acgs_security_allowed_listeners" in out["lines"]


def test_listening_check_reads_the_registered_command():
    assert ids(_security.listening({"rc": 0, "stdout": SS}, CATALOG, INFRA, ALL_IN_ONE, GROUP_LISTENERS)) == [
        "listener-loopback:127.0.0.1:5595", "listener-exposed:0.0.0.0:2024"]
    assert severities(_security.listening({"rc": 1, "stderr": "ss: not found"}, CATALOG, INFRA, ALL_IN_ONE, GROUP_LISTENERS)) == {
        "listeners-unchecked": "medium"}


# --- PostgreSQL ---------------------------------------------------------------------


def hba(*rows):
    return {"changed": False, "failed": False, "query_result": [
        dict(zip(("line_number", "type", "database", "user_name", "address", "auth_method", "error"), row)) for row in rows]}


DEBIAN_HBA = [(118, "local", ["all"], ["postgres"], None, "peer", None),
              (123, "host", ["all"], ["all"], "127.0.0.1", "scram-sha-256", None),
              (125, "host", ["all"], ["all"], "::1", "scram-sha-256", None)]
METHODS = ["scram-sha-256", "cert", "reject"]


def test_debian_rules_pass():
    assert _security.pg_hba(hba(*DEBIAN_HBA), METHODS) == []


def test_trust_local_or_network_and_md5_network_are_high():
    found = _security.pg_hba(hba(*(DEBIAN_HBA + [(130, "local", ["all"], ["all"], None, "trust", None),
                                                 (131, "host", ["acgs"], ["acgs"], "10.20.0.0", "md5", None),
                                                 (132, "hostssl", ["all"], ["all"], "0.0.0.0", "trust", None)])), METHODS)
    assert severities(found) == {"pg-hba-trust:line-130": "high", "pg-hba-method:line-131": "high", "pg-hba-trust:line-132": "high"}
    assert found[1]["title"] == "pg_hba.conf line 131 uses md5 for network connections: host acgs acgs 10.20.0.0"


def test_unparsable_line_and_unreachable_server():
    assert severities(_security.pg_hba(hba((140, None, None, None, None, None, "invalid authentication method \"nope\"")), METHODS)) == {
        "pg-hba-error:line-140": "medium"}
    down = {"changed": False, "failed": False, "msg": "unable to connect to database: connection refused"}
    found = _security.pg_hba(down, METHODS)
    assert severities(found) == {"pg-hba-unchecked": "medium"} and "connection refused" in found[0]["detail"]


# --- Redis, HAProxy -----------------------------------------------------------------


def test_redis_refusing_passes_answering_is_high_down_is_unchecked():
    refused = {"failed": False, "msg": "unable to connect to database: Authentication required."}
    assert _security.redis(refused, "127.0.0.1:6379") == []
    assert severities(_security.redis({"changed": False, "info": {"redis_version": "7.0.15"}}, "127.0.0.1:6379")) == {
        "redis-no-password": "high"}
    assert severities(_security.redis({"msg": "unable to connect to database: Error 111 connecting"}, "x")) == {"redis-unchecked": "medium"}


def test_admin_socket_world_writable_is_high():
    assert _security.admin_socket({"exists": True, "mode": "0660", "issock": True}, "/run/haproxy/admin.sock") == []
    assert severities(_security.admin_socket({"exists": True, "mode": "0666"}, "/run/haproxy/admin.sock")) == {
        "haproxy-socket-world-writable": "high"}
    assert severities(_security.admin_socket({"exists": False}, "/run/haproxy/admin.sock")) == {"haproxy-socket-unchecked": "medium"}


# --- processes ----------------------------------------------------------------------

STATUS = "\n".join([
    "acgs-auth-service-blue           RUNNING   pid 300, uptime 0:10:00",
    "acgs-auth-service-green          STOPPED   Nov 27 08:07 PM",
    "acgs-fv-service-blue             RUNNING   pid 310, uptime 0:10:00",
    "nats-server                      RUNNING   pid 200, uptime 0:10:00",
])
PS = "\n".join([
    "      1       0     0 root                             process_api",
    "    100       1     0 root                             supervisord",
    "    200     100   998 nats                             nats-server",
    "    300     100   999 acgs                             python3",
    "    310     100   999 acgs                             python3",
    "    311     310     0 root                             sh",
])


def test_supervisor_programs_by_prefix():
    assert _security.supervisor_programs(STATUS, "acgs-") == [
        {"name": "acgs-auth-service-blue", "state": "RUNNING", "pid": 300},
        {"name": "acgs-auth-service-green", "state": "STOPPED", "pid": None},
        {"name": "acgs-fv-service-blue", "state": "RUNNING", "pid": 310}]


def test_program_or_its_children_as_root_is_high():
    found = _security.processes({"rc": 3, "stdout": STATUS}, PS, "acgs-")
    assert severities(found) == {"process-root:acgs-fv-service-blue": "high"}
    assert "pid 311 (sh)" in found[0]["detail"]
    clean = PS.replace("    311     310     0 root ", "    311     310   999 acgs ")
    assert _security.processes({"rc": 3, "stdout": STATUS}, clean, "acgs-") == []


def test_no_program_is_unchecked_with_supervisorctl_error():
    found = _security.processes({"rc": 4, "stdout": "", "stderr": "unix:///var/run/supervisor.sock no such file"}, PS, "acgs-")
    assert severities(found) == {"processes-unchecked": "medium"}
    assert "supervisor.sock no such file" in found[0]["detail"]


# --- constitutional hash -------------------------------------------------------------

HASH = catalog.CONSTITUTIONAL_HASH


def test_wrong_hash_is_critical_missing_is_high():
    result = {"expected_hash": HASH, "files": [
        {"name": "/etc/acgs/services/ec-service-blue.json", "path": "/etc/acgs/services/ec-service-blue.json", "hash": HASH, "compliant": True},
        {"name": "/etc/acgs/services/ec-service-green.json", "path": "/etc/acgs/services/ec-service-green.json", "hash": "0" * 16,
         "compliant": False, "error": "differs"}],
        "services": [
        {"name": "ec-service", "url": "http://127.0.0.1:8006", "hash": None, "compliant": False, "error": "connection refused"}]}
    found = _security.hashes(result)
    assert severities(found) == {"hash-missing:ec-service": "high", "hash-mismatch:/etc/acgs/services/ec-service-green.json": "critical"}
    mismatch = [f for f in found if f["severity"] == "critical"][0]
    assert mismatch["title"] == "file /etc/acgs/services/ec-service-green.json has constitutional hash %s, expected %s" % ("0" * 16, HASH)
    assert _security.hashes({"expected_hash": HASH, "services": [], "files": []}) == []
    assert severities(_security.hashes({"failed": True, "msg": "no deployed configuration"})) == {"hash-unchecked": "high"}


# --- Lynis --------------------------------------------------------------------------

LYNIS = "\n".join([
    "# Lynis Report",
    "lynis_version=3.0.8",
    "warning[]=PKGS-7392|Found one or more vulnerable packages.|-|-|",
    "suggestion[]=AUTH-9286|Configure minimum password age in /etc/login.defs|-|-|",
    "suggestion[]=AUTH-9286|Configure maximum password age in /etc/login.defs|-|-|",
    "suggestion[]=DBS-1884|Configure the 'requirepass' setting for Redis|/etc/redis/redis.conf|text:configure 'requirepass' setting|",
    "hardening_index=55",
])
LYNIS_SEVERITIES = {"warning": "medium", "suggestion": "low"}


def test_lynis_warnings_and_suggestions():
    found = _security.lynis({"rc": 0}, LYNIS, LYNIS_SEVERITIES, 300)
    assert [(f["id"], f["severity"]) for f in found] == [
        ("lynis-warning:PKGS-7392", "medium"), ("lynis-suggestion:AUTH-9286", "low"), ("lynis-suggestion:AUTH-9286", "low"),
        ("lynis-suggestion:DBS-1884", "low")]
    assert found[0]["title"] == "Lynis: Found one or more vulnerable packages." and found[0]["detail"] == ""
    assert found[3]["detail"] == "/etc/redis/redis.conf; configure 'requirepass' setting"


def test_lynis_timeout_failure_and_skip_are_unchecked():
    assert severities(_security.lynis({"rc": 124}, LYNIS, LYNIS_SEVERITIES, 5)) == {"lynis-timeout": "medium"}
    assert "within 5 s" in _security.lynis({"rc": 137}, "", LYNIS_SEVERITIES, 5)[0]["title"]
    assert severities(_security.lynis({"rc": 1, "stderr": "Fatal: no permission"}, "", LYNIS_SEVERITIES, 5)) == {"lynis-unchecked": "medium"}
    assert severities(_security.lynis({"skipped": True, "skip_reason": "Conditional result was False"}, "", LYNIS_SEVERITIES, 5)) == {
        "lynis-unchecked": "medium"}


# --- the report ---------------------------------------------------------------------


def test_report_contract_order_summary_and_verdict():
    checks = {"lynis": _security.lynis({"rc": 0}, LYNIS, LYNIS_SEVERITIES, 300),
              "secrets": _security.file_permissions([{"path": "/etc/acgs/secrets.yml", "mode": "0644", "pw_name": "root"}],
                                                    "0600", "root", "secrets file", "secrets-file"),
              "redis": []}
    out = _security.report(checks, "localhost", "high", "2026-11-27T12:00:00Z", ["tls"])
    rep = out["report"]
    assert sorted(rep) == ["findings", "generated_at", "host", "passed", "summary"]
    assert rep["summary"] == {"critical": 0, "high": 1, "medium": 1, "low": 3, "info": 0}
    assert rep["passed"] is False
    assert [f["severity"] for f in rep["findings"]] == ["high", "medium", "low", "low", "low"]
    assert "lynis-suggestion:AUTH-9286#2" in ids(rep["findings"])
    assert ids(out["blocking"]) == ["secrets-file-permissions:/etc/acgs/secrets.yml"]
    assert out["lines"][0] == ("ACGS security scan of localhost: FAILED (fails on high or worse)   critical 0, high 1, medium 1, low 3, info 0")
    assert "  redis           ok" in out["lines"] and "  tls             not run" in out["lines"]
    assert "  secrets         1 high" in out["lines"]
    high = out["lines"].index("HIGH     secrets-file-permissions:/etc/acgs/secrets.yml: secrets file /etc/acgs/secrets.yml is world-readable (mode 0644)")
    assert out["lines"][high + 1] == "         expected at most 0600: chmod 0600 /etc/acgs/secrets.yml"
    assert out["lines"][high + 2].startswith("MEDIUM   lynis-warning:PKGS-7392")
    assert _security.report(checks, "localhost", "critical", "t")["report"]["passed"] is True
    assert _security.report({"redis": []}, "localhost", "low", "t")["report"]["passed"] is True


def test_report_refuses_bad_input():
    with pytest.raises(_security.SecurityError, match="fail_on 'severe'"):
        _security.report({}, "h", "severe", "t")
    with pytest.raises(_security.SecurityError, match="check redis returned a malformed finding"):
        _security.report({"redis": [{"id": "x", "severity": "urgent", "title": "", "detail": ""}]}, "h", "high", "t")
    with pytest.raises(_security.SecurityError, match="mapping of check name"):
        _security.report([], "h", "high", "t")


def test_evaluate_names_unknown_checks_options_and_bad_input():
    assert _security.evaluate("redis", {"msg": "Authentication required."}, address="a") == []
    with pytest.raises(_security.SecurityError, match="unknown check 'nmap'"):
        _security.evaluate("nmap", {})
    with pytest.raises(_security.SecurityError, match="check redis: .*unexpected keyword argument 'adress'"):
        _security.evaluate("redis", {}, address="a", adress="a")
    with pytest.raises(_security.SecurityError, match="check tls cannot read its input"):
        _security.evaluate("tls", [42], renew_days=30)

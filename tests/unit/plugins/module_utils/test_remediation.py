# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Level 1 remediation's decisions: Alertmanager's payload, the rate limit, the audit records.
The receiver itself restarts a SIGSTOP'd service on the live stack (the remediation target)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _remediation as rem

# What Alertmanager 0.25 posts (webhook version 4), trimmed to the fields that matter.
PAYLOAD = {
    "version": "4", "status": "firing", "receiver": "acgs-remediation",
    "groupLabels": {"alertname": "ACGSServiceDown", "level": "1", "service": "gs-service"},
    "alerts": [{
        "status": "firing", "fingerprint": "4f1c0a", "startsAt": "2026-01-01T10:00:00Z",
        "labels": {"alertname": "ACGSServiceDown", "level": "1", "service": "gs-service", "slot": "green",
                   "instance": "127.0.0.1:18104", "job": "acgs", "severity": "critical"},
    }],
}
CONFIG = {"enabled": True, "services": ["gs-service", "auth-service"], "hosts": ["127.0.0.1"], "max_restarts_per_hour": 3}
HASH = "0123456789abcdef"


def alert(**labels):
    out = rem.parse_payload(json.dumps(PAYLOAD))[0]
    out.update(labels)
    return out


def test_parse_payload_reads_each_alert():
    assert rem.parse_payload(json.dumps(PAYLOAD).encode("utf-8")) == [{
        "status": "firing", "alertname": "ACGSServiceDown", "level": "1", "service": "gs-service", "slot": "green",
        "instance": "127.0.0.1:18104", "fingerprint": "4f1c0a", "starts_at": "2026-01-01T10:00:00Z"}]


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"alerts": {}}', b'{"status": "firing"}', b'{"alerts": [1]}'])
def test_parse_payload_refuses_what_is_not_a_webhook(body):
    with pytest.raises(rem.PayloadError):
        rem.parse_payload(body)


@pytest.mark.parametrize("instance, address", [
    ("127.0.0.1:18104", ("127.0.0.1", 18104)), ("[::1]:18000", ("::1", 18000)),
    ("host", (None, None)), (":80", (None, None)), ("h:0", (None, None)), ("h:70000", (None, None)), ("", (None, None))])
def test_instance_address(instance, address):
    assert rem.instance_address(instance) == address


def test_program_name_is_the_services_role_program():
    assert rem.program_name("acgs-", "gs-service", "green") == "acgs-gs-service-green"


def test_a_firing_alert_of_a_known_instance_is_restarted():
    assert rem.decide(alert(), CONFIG, {}, set(), 1000.0) == ("restart", "restart 1 of at most 3 this hour")


@pytest.mark.parametrize("change, config, decision", [
    ({"status": "resolved"}, {}, "skipped: resolved"),
    ({"level": "2"}, {}, "skipped: not level 1"),
    ({"alertname": "ACGSResponseTimeSLABreach"}, {}, "skipped: not level 1"),
    ({}, {"enabled": False}, "skipped: disabled"),
    ({"service": "evil-service"}, {}, "skipped: unknown service"),
    ({"slot": "red"}, {}, "skipped: unknown service"),
    ({"instance": "10.0.0.9:18104"}, {}, "skipped: unknown service"),
    ({"instance": "garbage"}, {}, "skipped: unknown service"),
])
def test_what_is_skipped(change, config, decision):
    got, reason = rem.decide(alert(**change), dict(CONFIG, **config), {}, set(), 1000.0)
    assert got == decision and got in rem.DECISIONS and reason


def test_one_restart_per_service_at_a_time():
    assert rem.decide(alert(), CONFIG, {}, {"gs-service"}, 1000.0)[0] == "skipped: in progress"
    assert rem.decide(alert(), CONFIG, {}, {"auth-service"}, 1000.0)[0] == "restart"


def test_rate_limit_per_service_per_hour():
    now = 10000.0
    history = {"gs-service": [now - 3000, now - 2000, now - 10]}
    decision, reason = rem.decide(alert(), CONFIG, history, set(), now)
    assert decision == "skipped: rate limit" and "Level 2" in reason
    # another service has its own budget
    assert rem.decide(alert(service="auth-service"), CONFIG, history, set(), now)[0] == "restart"
    # an attempt older than an hour no longer counts
    assert rem.decide(alert(), CONFIG, {"gs-service": [now - 3600, now - 2000, now - 10]}, set(), now) == (
        "restart", "restart 3 of at most 3 this hour")
    assert rem.decide(alert(), dict(CONFIG, max_restarts_per_hour=4), history, set(), now)[0] == "restart"
    assert rem.decide(alert(), dict(CONFIG, max_restarts_per_hour=0), {}, set(), now)[0] == "skipped: rate limit"


def test_audit_record_and_line():
    record = rem.audit_record("restarted", alert(), "replaced", now=1767261600.5, old_pid=10, new_pid=20)
    assert record == {"time": "2026-01-01T10:00:00Z", "epoch": 1767261600.5, "decision": "restarted", "reason": "replaced",
                      "alertname": "ACGSServiceDown", "service": "gs-service", "slot": "green", "instance": "127.0.0.1:18104",
                      "fingerprint": "4f1c0a", "alert_started": "2026-01-01T10:00:00Z", "old_pid": 10, "new_pid": 20}
    line = rem.audit_line(record)
    assert line.endswith("\n") and line.count("\n") == 1 and json.loads(line) == record


def test_the_rate_limit_survives_a_restart_of_the_receiver():
    now = 10000.0
    lines = [rem.audit_line(rem.audit_record(d, alert(service=s), "", now=t)) for d, s, t in [
        ("restarted", "gs-service", now - 4000),        # older than an hour
        ("restarted", "gs-service", now - 100),
        ("failed", "gs-service", now - 50),             # a failed attempt counts
        ("skipped: rate limit", "gs-service", now - 40),  # a skip does not
        ("restarted", "auth-service", now - 30)]] + ["{cut short", "[]\n"]
    assert rem.history_from_audit(lines, now) == {"gs-service": [now - 100, now - 50], "auth-service": [now - 30]}


@pytest.mark.parametrize("status, body, ok", [
    (200, {"status": "healthy", "constitutional_hash": HASH}, True),
    (200, {"status": "degraded", "constitutional_hash": HASH}, True),
    (200, {"status": "unhealthy", "constitutional_hash": HASH}, False),
    (200, {"status": "healthy", "constitutional_hash": "ffffffffffffffff"}, False),
    (503, {"status": "healthy", "constitutional_hash": HASH}, False),
    (200, "not json", False),
    (200, ["healthy"], False),
])
def test_healthy_needs_200_live_status_and_the_hash(status, body, ok):
    raw = body if isinstance(body, str) else json.dumps(body)
    assert rem.healthy(status, raw.encode("utf-8"), HASH) is ok

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the decisions of Level 1 automated remediation (roles/remediator), without I/O.

Alertmanager posts its webhook payload (version 4) for ACGSServiceDown at Level 1; each alert
names the instance that serves (Prometheus's job acgs scrapes only the slots the deploy state
gives traffic, labelled service and slot). For each alert the receiver decides: restart the
instance, or skip it (resolved, disabled, not a service it knows, rate limit, a restart already
running, stopped on purpose, healthy again). Every decision is one audit record (a JSON line).
The restart itself (roles/remediator's daemon, _remediation_daemon) is I/O. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

ALERTNAME = "ACGSServiceDown"
SLOTS = ("blue", "green")
HOUR = 3600.0
# The outcomes an audit record's decision may have.
DECISIONS = ("restarted", "failed", "skipped: resolved", "skipped: rate limit", "skipped: disabled",
             "skipped: unknown service", "skipped: in progress", "skipped: stopped on purpose",
             "skipped: healthy", "skipped: not level 1")


class PayloadError(ValueError):
    """The body is not an Alertmanager webhook payload."""


def parse_payload(body):
    """The alerts of an Alertmanager webhook body (bytes or str) as
    [{status, alertname, level, service, slot, instance, fingerprint, starts_at}].
    PayloadError when it is not JSON of Alertmanager's webhook (a list ``alerts``)."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        data = json.loads(body)
    except ValueError as err:
        raise PayloadError("not JSON: %s" % err)
    if not isinstance(data, dict) or not isinstance(data.get("alerts"), list):
        raise PayloadError("no list 'alerts': not an Alertmanager webhook payload")
    out = []
    for alert in data["alerts"]:
        if not isinstance(alert, dict):
            raise PayloadError("an alert is not an object")
        labels = alert.get("labels") or {}
        out.append({
            "status": alert.get("status") or data.get("status") or "",
            "alertname": labels.get("alertname", ""),
            "level": str(labels.get("level", "")),
            "service": labels.get("service", ""),
            "slot": labels.get("slot", ""),
            "instance": labels.get("instance", ""),
            "fingerprint": alert.get("fingerprint", ""),
            "starts_at": alert.get("startsAt", ""),
        })
    return out


def instance_address(instance):
    """(host, port) of a Prometheus ``instance`` label (host:port, [v6]:port), or (None, None)."""
    head, sep, port = (instance or "").rpartition(":")
    if not sep or not head or not port.isdigit() or not 0 < int(port) < 65536:
        return None, None
    return head.strip("[]"), int(port)


def program_name(prefix, service, slot):
    """The process manager's program of a service's slot (roles/services: acgs-<service>-<slot>)."""
    return "%s%s-%s" % (prefix, service, slot)


def recent(history, service, now, window=HOUR):
    """The restarts (times) of ``service`` within ``window`` seconds before ``now``."""
    return [t for t in history.get(service, ()) if now - t < window]


def decide(alert, config, history, busy, now):
    """(decision, reason) for one parsed alert: ``restart`` or a ``skipped: ...`` of DECISIONS.

    ``config``: enabled, services (the catalog's names), hosts (the addresses this host's instances
    are scraped at), max_restarts_per_hour. ``history``: {service:
    [times of restarts]} (failed ones count: a restart that does not help must not be repeated
    beyond the limit). ``busy``: the services whose restart is running."""
    service = alert["service"]
    if alert["status"] != "firing":
        return "skipped: resolved", "the alert is %s" % (alert["status"] or "not firing")
    if alert["alertname"] != ALERTNAME or alert["level"] != "1":
        return "skipped: not level 1", "%s level %s is not Level 1 %s" % (alert["alertname"], alert["level"], ALERTNAME)
    if not config.get("enabled", True):
        return "skipped: disabled", "acgs_remediation_enabled is false"
    if service not in config.get("services", ()) or alert["slot"] not in SLOTS:
        return "skipped: unknown service", "service %r slot %r is not an instance of the catalog" % (service, alert["slot"])
    host, port = instance_address(alert["instance"])
    if host not in config.get("hosts", ()):
        return "skipped: unknown service", "instance %r is not on this host (%s)" % (
            alert["instance"], ", ".join(config.get("hosts", ())))
    if service in busy:
        return "skipped: in progress", "a restart of %s is running" % service
    limit = int(config.get("max_restarts_per_hour", 3))
    done = recent(history, service, now)
    if len(done) >= limit:
        return "skipped: rate limit", "%d restarts of %s in the last hour (limit %d): Level 2 takes over" % (
            len(done), service, limit)
    return "restart", "restart %d of at most %d this hour" % (len(done) + 1, limit)


def audit_record(decision, alert, reason, now=None, **extra):
    """One audit line's fields: time (UTC ISO 8601 and epoch), decision, the alert's identity, reason."""
    now = time.time() if now is None else now
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)), "epoch": round(now, 3),
              "decision": decision, "reason": reason, "alertname": alert.get("alertname", ""),
              "service": alert.get("service", ""), "slot": alert.get("slot", ""),
              "instance": alert.get("instance", ""), "fingerprint": alert.get("fingerprint", ""),
              "alert_started": alert.get("starts_at", "")}
    record.update(extra)
    return record


def audit_line(record):
    """The record as one JSON line (sorted keys, newline)."""
    return json.dumps(record, sort_keys=True) + "\n"


def history_from_audit(lines, now, window=HOUR):
    """{service: [epochs]} of the restart attempts (restarted or failed) in the audit lines of the
    last ``window`` seconds: the rate limit survives a restart of the receiver. Unreadable lines
    are ignored (a line cut short by a crash)."""
    history = {}
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or record.get("decision") not in ("restarted", "failed"):
            continue
        epoch = record.get("epoch")
        if isinstance(epoch, (int, float)) and now - epoch < window:
            history.setdefault(record.get("service", ""), []).append(float(epoch))
    return history


def healthy(status, body, expected_hash):
    """Whether a /health answer is that of a healthy instance carrying the constitutional hash."""
    if status != 200:
        return False
    try:
        data = json.loads(body.decode("utf-8", "replace") if isinstance(body, bytes) else body)
    except ValueError:
        return False
    # degraded (an optional dependency down) is a live instance; unhealthy is not
    return (isinstance(data, dict) and data.get("status") in ("healthy", "degraded")
            and data.get("constitutional_hash") == expected_hash)

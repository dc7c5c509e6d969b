# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: deploy_gate
author: ACGS Operations Team (@acgs)
version_added: 0.1.0
short_description: The verdict of a report-based deploy gate (security scan, performance validation) across hosts
description:
  - Judges the newest report of a kind on each host that writes it against its maximum age, and returns the
    gate's record, C({name, result, detail}) with C(result) one of V(passed), V(failed), V(no report).
  - V(security_scan) passes on a host when its report lists no finding of severity V(high) or V(critical)
    (C(findings[].severity), or counts in C(summary.high) and C(summary.critical)).
  - V(performance) passes on a host when its report says C(passed) is true.
  - No report on a host is V(no report) (a warning for the play), or V(failed) with O(strict).
  - The gate fails when it fails on any host, is V(no report) when a host has none, and passes when it
    passes on every host; C(detail) names each host with its verdict (the failed ones only, when some failed).
positional: kind, name, max_age, now, strict
options:
  _input:
    description:
      - The results of a looped C(ansible.builtin.slurp) of the newest report, whose C(item) are the results of a
        looped C(ansible.builtin.find) (C(files), each with C(path) and C(mtime)) whose C(item) is C([KIND, HOST]).
      - A host without a report has a skipped slurp result, its C(item) the find result all the same.
    type: list
    elements: dict
    required: true
  kind:
    description: The reports' directory under the results directory, V(security) or V(performance); other items are left out.
    type: str
    required: true
  name:
    description: The gate, V(security_scan) or V(performance).
    type: str
    required: true
  max_age:
    description: Seconds a report stays valid.
    type: float
    required: true
  now:
    description: The current time (epoch seconds).
    type: float
    required: true
  strict:
    description: Whether a missing report fails the gate.
    type: bool
    default: false
"""

import base64
import json

from ansible.errors import AnsibleFilterError

BLOCKING = ("high", "critical")


def _findings(content):
    summary = content.get("summary") or {}
    counted = sum(int(summary.get(level) or 0) for level in BLOCKING)
    listed = [f for f in content.get("findings") or [] if str((f or {}).get("severity", "")).lower() in BLOCKING]
    return max(counted, len(listed)), listed


def _parse(content_b64):
    try:
        content = json.loads(base64.b64decode(content_b64 or "").decode("utf-8"))
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    return content if isinstance(content, dict) else None


def judge(files, content_b64, name, max_age, now, strict=False):
    """The verdict on one host: its reports found and the newest one's content (base64)."""
    if not files:
        return dict(name=name, result="failed" if strict else "no report",
                    detail="no %s report yet%s" % (name.replace("_", " "), " (strict gates)" if strict else ""))
    newest = sorted(files, key=lambda f: float(f.get("mtime") or 0))[-1]
    age = float(now) - float(newest.get("mtime") or 0)
    where = newest.get("path", "?")
    content = _parse(content_b64)
    if content is None:
        return dict(name=name, result="failed", detail="%s is not a JSON object" % where)
    if age > float(max_age):
        return dict(name=name, result="failed",
                    detail="newest report %s is %d s old, more than %d s" % (where, age, float(max_age)))
    if name == "security_scan":
        count, listed = _findings(content)
        if count:
            titles = ", ".join(str(f.get("id") or f.get("title") or "?") for f in listed[:5])
            return dict(name=name, result="failed",
                        detail="%s has %d high or critical finding(s)%s" % (where, count, (": " + titles) if titles else ""))
        return dict(name=name, result="passed", detail="%s: no high finding, %d s old" % (where, age))
    if content.get("passed") is not True:
        failed = content.get("failed") or content.get("violations") or []
        return dict(name=name, result="failed", detail="%s did not pass%s" % (where, (": %s" % failed) if failed else ""))
    return dict(name=name, result="passed", detail="%s passed, %d s old" % (where, age))


def deploy_gate(results, kind, name, max_age, now, strict=False):
    if name not in ("security_scan", "performance"):
        raise AnsibleFilterError("deploy_gate: unknown gate %r (security_scan or performance)" % name)
    verdicts = []
    for result in results or []:
        found = result.get("item") or {}
        kind_host = found.get("item") or ["", ""]
        if kind_host[0] != kind:
            continue
        verdict = judge(found.get("files") or [], result.get("content"), name, max_age, now, strict)
        verdicts.append((str(kind_host[1]), verdict))
    if not verdicts:
        return judge([], None, name, max_age, now, strict)
    seen = set(verdict["result"] for _host, verdict in verdicts)
    result = "failed" if "failed" in seen else "no report" if "no report" in seen else "passed"
    shown = [(host, verdict) for host, verdict in verdicts if verdict["result"] == result or result != "failed"]
    return dict(name=name, result=result, detail="; ".join("%s: %s" % (host, verdict["detail"]) for host, verdict in shown))


class FilterModule(object):

    def filters(self):
        return {"deploy_gate": deploy_gate}

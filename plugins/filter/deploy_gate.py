# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: deploy_gate
author: ACGS Operations Team (@acgs)
version_added: 0.1.0
short_description: The verdict of a report-based deploy gate (security scan, performance validation)
description:
  - Judges the newest report of a kind against its maximum age and returns the gate's record,
    C({name, result, detail}) with C(result) one of V(passed), V(failed), V(no report).
  - V(security_scan) passes when the report lists no finding of severity V(high) or V(critical)
    (C(findings[].severity), or counts in C(summary.high) and C(summary.critical)).
  - V(performance) passes when the report says C(passed) is true.
  - No report is V(no report) (a warning for the play), or V(failed) with O(strict).
positional: content, name, max_age, now, strict
options:
  _input:
    description: The reports found (C(ansible.builtin.find)'s C(files), each with C(path) and C(mtime)).
    type: list
    elements: dict
    required: true
  content:
    description: The newest report's content as C(ansible.builtin.slurp) returns it (base64), or V(none).
    type: raw
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

EXAMPLES = r"""
- name: Judge the newest security scan
  ansible.builtin.set_fact:
    gate: "{{ found.files | acgs.platform.deploy_gate(newest.content, 'security_scan', 604800, now().timestamp()) }}"
"""

RETURN = r"""
_value:
  description: The gate's record, C(name), C(result) and C(detail).
  type: dict
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


def deploy_gate(files, content_b64, name, max_age, now, strict=False):
    if name not in ("security_scan", "performance"):
        raise AnsibleFilterError("deploy_gate: unknown gate %r (security_scan or performance)" % name)
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


class FilterModule(object):

    def filters(self):
        return {"deploy_gate": deploy_gate}

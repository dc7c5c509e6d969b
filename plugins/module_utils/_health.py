# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the health check behind acgs.platform.acgs_health.

Probes services (HTTP) and dependencies concurrently, then decides the platform
status: ``critical`` when a critical service, or a required dependency that a
critical service needs, is down; ``degraded`` when anything else is not healthy;
``healthy`` otherwise. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.acgs.platform.plugins.module_utils.catalog import (
    CRITICALITIES,
    DEFAULT_HOST,
    CatalogError,
    build_catalog,
)
from ansible_collections.acgs.platform.plugins.module_utils._health_deps import normalise_dependencies, probe_dependency
from ansible_collections.acgs.platform.plugins.module_utils._health_report import address, report
from ansible_collections.acgs.platform.plugins.module_utils._http import get_path, http_get, join_url
from ansible_collections.acgs.platform.plugins.module_utils._probe_args import (
    ProbeError,
    validate_common,
    validate_path,
    validate_url,
)
from ansible_collections.acgs.platform.plugins.module_utils._probe_run import elapsed_ms, run_concurrently, with_retries

SERVICE_STATUSES = ("healthy", "degraded", "unhealthy")
PLATFORM_STATUSES = ("healthy", "degraded", "critical")
FAIL_ON = ("critical", "degraded", "never")
DEFAULT_CONDITIONS = {"status": ["healthy", "ok", "up", "pass"]}
NAME_KEYS = ("service", "service_name", "name")
VERSION_KEYS = ("version", "service_version", "data.version")

SERVICE_OPTIONS = dict(
    name=dict(type="str", required=True),
    url=dict(type="str", required=True),
    path=dict(type="str", default="/health"),
    criticality=dict(type="str", default="medium", choices=list(CRITICALITIES)),
    status_codes=dict(type="list", elements="int", default=[200]),
    conditions=dict(type="dict"),
    expect_json=dict(type="bool", default=True),
    dependencies=dict(type="list", elements="str", default=[]),
    latency_threshold_ms=dict(type="int"),
)


def catalog_services(host, use_tls):
    """The runbook's services at ``host`` as ``services`` entries."""
    return services_from_catalog(build_catalog(host=host), use_tls)


def services_from_catalog(entries, use_tls, where="catalog"):
    """``services`` entries from catalog entries (as the service_catalog lookup returns them)."""
    if not isinstance(entries, list) or not entries:
        raise ProbeError("%s must be a non-empty list of catalog entries" % where)
    result = []
    port_key = "tls_port" if use_tls else "port"
    for index, entry in enumerate(entries):
        here = "%s[%d]" % (where, index)
        if not isinstance(entry, dict):
            raise ProbeError("%s must be a catalog entry (a dictionary with name, host and port)" % here)
        for key in ("name", "host", port_key):
            if entry.get(key) in (None, ""):
                raise ProbeError("%s.%s is missing" % (here, key))
        try:
            port = int(entry[port_key])
        except (TypeError, ValueError):
            raise ProbeError("%s.%s %r is not a port number" % (here, port_key, entry[port_key]))
        if not 1 <= port <= 65535:
            raise ProbeError("%s.%s %d is outside 1-65535" % (here, port_key, port))
        dependencies = entry.get("dependencies") or []
        if not isinstance(dependencies, list):
            raise ProbeError("%s.dependencies must be a list" % here)
        result.append({"name": entry["name"],
                       "url": "%s://%s:%d" % ("https" if use_tls else "http", _url_host(str(entry["host"])), port),
                       "criticality": entry.get("criticality") or "medium",
                       "dependencies": list(dependencies)})
    return result


def _url_host(host):
    return "[%s]" % host if ":" in host and not host.startswith("[") else host


def normalise_services(specs, params):
    """Validated service entries with every option filled; ProbeError names the bad one."""
    if specs is None and params.get("catalog") is not None:
        specs = services_from_catalog(params["catalog"], params.get("use_tls"))
    elif specs is None:
        try:
            specs = catalog_services(params.get("host") or DEFAULT_HOST, params.get("use_tls"))
        except CatalogError as err:
            raise ProbeError("the service catalog cannot be used: %s" % to_native(err))
    if not specs:
        raise ProbeError("services is empty: give at least one service, or omit it to check the catalog")
    result = []
    seen = set()
    for index, spec in enumerate(specs):
        where = "services[%d]" % index
        if not isinstance(spec, dict):
            raise ProbeError("%s must be a dictionary with name and url" % where)
        svc = {}
        for key, option in SERVICE_OPTIONS.items():
            default = option.get("default")
            svc[key] = spec.get(key) if spec.get(key) is not None else (list(default) if isinstance(default, list) else default)
        unknown = set(spec) - set(SERVICE_OPTIONS)
        if unknown:
            raise ProbeError("%s has unknown key(s): %s" % (where, ", ".join(sorted(unknown))))
        if not svc["name"]:
            raise ProbeError("%s.name must not be empty" % where)
        if svc["name"] in seen:
            raise ProbeError("%s.name %r is listed twice" % (where, svc["name"]))
        seen.add(svc["name"])
        svc["url"] = validate_url(svc["url"], "%s.url" % where)
        if svc["criticality"] not in CRITICALITIES:
            raise ProbeError("%s.criticality %r is not one of %s" % (where, svc["criticality"], ", ".join(CRITICALITIES)))
        try:
            svc["status_codes"] = [int(c) for c in svc["status_codes"]]
        except (TypeError, ValueError):
            raise ProbeError("%s.status_codes must be a list of HTTP status codes" % where)
        if not svc["status_codes"] or any(c < 100 or c > 599 for c in svc["status_codes"]):
            raise ProbeError("%s.status_codes must list HTTP status codes between 100 and 599" % where)
        if svc["conditions"] is None:
            svc["conditions"] = dict(DEFAULT_CONDITIONS) if svc["expect_json"] else {}
        if not isinstance(svc["conditions"], dict):
            raise ProbeError("%s.conditions must map a JSON path to the accepted value(s)" % where)
        if svc["conditions"] and not svc["expect_json"]:
            raise ProbeError("%s.conditions need expect_json: true" % where)
        for path in svc["conditions"]:
            validate_path(path, "%s.conditions key" % where)
        if not isinstance(svc["dependencies"], list):
            raise ProbeError("%s.dependencies must be a list of dependency names" % where)
        threshold = svc["latency_threshold_ms"]
        if threshold is None:
            threshold = params.get("latency_threshold_ms")
        if threshold is not None and threshold < 1:
            raise ProbeError("%s.latency_threshold_ms must be at least 1" % where)
        svc["latency_threshold_ms"] = threshold
        result.append(svc)
    return result


def new_service_result(svc):
    """A service result with every key present."""
    return {
        "name": svc["name"],
        "url": join_url(svc["url"], svc["path"]),
        "criticality": svc["criticality"],
        "status": "unhealthy",
        "http_status": None,
        "latency_ms": None,
        "version": None,
        "reported_name": None,
        "reported_status": None,
        "attempts": 0,
        "error": None,
        "error_kind": None,
        "dependencies": list(svc["dependencies"]),
        "impaired_by": [],
    }


def _matches(value, accepted):
    accepted = accepted if isinstance(accepted, list) else [accepted]
    for want in accepted:
        if isinstance(want, str) and isinstance(value, str):
            if want.lower() == value.lower():
                return True
        elif isinstance(want, bool) or isinstance(value, bool):
            if want is value:
                return True
        elif want == value:
            return True
    return False


def check_conditions(data, conditions):
    """None when the JSON body meets every condition, else what is wrong."""
    for path, accepted in sorted(conditions.items()):
        found, value = get_path(data, path)
        if not found:
            return "%s is missing from the response" % path
        if not _matches(value, accepted):
            return "%s is %r (expected %s)" % (path, value, _describe_accepted(accepted))
    return None


def _describe_accepted(accepted):
    accepted = accepted if isinstance(accepted, list) else [accepted]
    return " or ".join(repr(a) for a in accepted)


def _first(data, keys):
    if not isinstance(data, dict):
        return None
    for key in keys:
        found, value = get_path(data, key)
        if found and value is not None and not isinstance(value, (dict, list)):
            return to_native(value)
    return None


def evaluate_response(svc, response, res):
    """Fill ``res`` from one HTTP response: the per-service decision."""
    res["http_status"] = response.status
    res["latency_ms"] = response.latency_ms
    res["error"], res["error_kind"] = None, None
    if response.error:
        res["status"], res["error"], res["error_kind"] = "unhealthy", response.error, response.error_kind
        return res
    data, json_error = (None, None)
    if svc["expect_json"]:
        data, json_error = response.json()
        if isinstance(data, dict):
            res["reported_name"] = _first(data, NAME_KEYS)
            res["version"] = _first(data, VERSION_KEYS)
            status = data.get("status")
            res["reported_status"] = to_native(status) if isinstance(status, str) else None
    if response.status not in svc["status_codes"]:
        res["status"], res["error_kind"] = "unhealthy", "http_status"
        res["error"] = "HTTP %s (expected %s)" % (response.status, ", ".join(str(c) for c in svc["status_codes"]))
        return res
    if svc["expect_json"]:
        if json_error:
            res["status"], res["error"], res["error_kind"] = "unhealthy", json_error, "invalid_json"
            return res
        problem = check_conditions(data, svc["conditions"])
        if problem:
            res["status"], res["error"], res["error_kind"] = "unhealthy", problem, "condition"
            return res
    res["status"] = "healthy"
    threshold = svc["latency_threshold_ms"]
    if threshold and response.latency_ms > threshold:
        res["status"] = "degraded"
        res["error_kind"] = "latency"
        res["error"] = "latency %d ms is above the threshold of %d ms" % (response.latency_ms, threshold)
    return res


def probe_service(svc, options):
    """Probe one service with retries; a complete result dict, never raises."""
    url = join_url(svc["url"], svc["path"])

    def attempt():
        return evaluate_response(svc, http_get(url, options), new_service_result(svc))

    res, attempts = with_retries(attempt, options.get("retries", 0), options.get("retry_delay", 0),
                                 lambda r: r["status"] != "unhealthy")
    res["attempts"] = attempts
    return res


def _counts(items, statuses):
    counts = dict((status, 0) for status in statuses)
    for item in items:
        counts[item["status"]] = counts.get(item["status"], 0) + 1
    counts["total"] = len(items)
    return counts


def aggregate(services, dependencies):
    """(platform status, summary, reasons) from the probe results.

    Also fills each dependency's ``needed_by`` and each service's ``impaired_by``.
    """
    by_dep = dict((dep["name"], dep) for dep in dependencies)
    for dep in dependencies:
        dep["needed_by"] = [svc["name"] for svc in services if dep["name"] in svc["dependencies"]]
    for svc in services:
        svc["impaired_by"] = [name for name in svc["dependencies"]
                              if name in by_dep and by_dep[name]["status"] == "unhealthy"]
    critical, degraded = [], []
    for svc in services:
        if svc["status"] == "unhealthy":
            reason = "%s service %s is down: %s (%s)" % (svc["criticality"], svc["name"], svc["error"], svc["url"])
            (critical if svc["criticality"] == "critical" else degraded).append(reason)
        elif svc["status"] == "degraded":
            degraded.append("service %s is degraded: %s (%s)" % (svc["name"], svc["error"], svc["url"]))
    criticality = dict((svc["name"], svc["criticality"]) for svc in services)
    for dep in dependencies:
        needers = [name for name in dep["needed_by"] if criticality.get(name) == "critical"]
        what = "dependency %s (%s at %s)" % (dep["name"], dep["type"], address(dep))
        if dep["status"] == "unhealthy":
            if dep["required"] and needers:
                critical.append("%s needed by critical service(s) %s is down: %s" % (what, ", ".join(needers), dep["error"]))
            else:
                degraded.append("%s is down: %s" % (what, dep["error"]))
        elif dep["status"] == "degraded":
            degraded.append("%s is degraded: %s" % (what, dep["error"]))
    if critical:
        status = "critical"
    elif degraded:
        status = "degraded"
    else:
        status = "healthy"
    summary = {
        "services": _counts(services, SERVICE_STATUSES),
        "dependencies": _counts(dependencies, SERVICE_STATUSES),
        "critical_failures": len(critical),
        "warnings": len(degraded),
    }
    return status, summary, critical + degraded


def should_fail(status, fail_on):
    """Whether a platform ``status`` fails the task under ``fail_on``."""
    if fail_on not in FAIL_ON:
        raise ProbeError("fail_on %r is not one of %s" % (fail_on, ", ".join(FAIL_ON)))
    if fail_on == "never":
        return False
    if fail_on == "degraded":
        return status != "healthy"
    return status == "critical"


def unchecked_dependencies(services, dependencies):
    """A warning naming the dependencies services need that no ``dependencies`` entry defines, or None."""
    defined = set(dep["name"] for dep in dependencies)
    needers = {}
    for svc in services:
        for name in svc["dependencies"]:
            if name not in defined:
                needers.setdefault(name, []).append(svc["name"])
    if not needers:
        return None
    return "not checked, as no dependencies entry defines them: %s" % "; ".join(
        "%s (needed by %s)" % (name, ", ".join(names)) for name, names in sorted(needers.items()))


def empty_result():
    """The result with every key, as returned when nothing could be probed."""
    return {
        "changed": False,
        "status": "critical",
        "services": [],
        "dependencies": [],
        "summary": {
            "services": dict([(s, 0) for s in SERVICE_STATUSES] + [("total", 0)]),
            "dependencies": dict([(s, 0) for s in SERVICE_STATUSES] + [("total", 0)]),
            "critical_failures": 0,
            "warnings": 0,
        },
        "reasons": [],
        "summary_lines": [],
        "elapsed_ms": 0,
    }


def run_health(params, warn=None):
    """(result, failed, message) for the module parameters. ProbeError on bad input.

    ``warn`` receives what the operator should know but does not fail the check.
    """
    start = time.monotonic()
    validate_common(params)
    if params.get("latency_threshold_ms") is not None and params["latency_threshold_ms"] < 1:
        raise ProbeError("latency_threshold_ms must be at least 1, got %r" % params["latency_threshold_ms"])
    if params.get("fail_on") not in FAIL_ON:
        raise ProbeError("fail_on %r is not one of %s" % (params.get("fail_on"), ", ".join(FAIL_ON)))
    services = normalise_services(params.get("services"), params)
    dependencies = normalise_dependencies(params.get("dependencies"), params.get("host") or DEFAULT_HOST,
                                          params.get("timeout") or 5.0)
    unchecked = unchecked_dependencies(services, dependencies)
    if unchecked and warn:
        warn(unchecked)
    options = dict(params)
    calls = [(lambda s=svc: probe_service(s, options)) for svc in services]
    calls += [(lambda d=dep: probe_dependency(d, options)) for dep in dependencies]
    results = run_concurrently(calls, params.get("max_workers") or 64)
    svc_results = results[:len(services)]
    dep_results = results[len(services):]
    status, summary, reasons = aggregate(svc_results, dep_results)
    result = empty_result()
    result.update(status=status, services=svc_results, dependencies=dep_results, summary=summary,
                  reasons=reasons, elapsed_ms=elapsed_ms(start))
    result["summary_lines"] = report(result)["lines"]
    failed = should_fail(status, params.get("fail_on") or "critical")
    counts = summary["services"]
    message = "platform is %s: %d/%d services healthy, %d/%d dependencies healthy" % (
        status, counts["healthy"], counts["total"], summary["dependencies"]["healthy"],
        summary["dependencies"]["total"])
    if reasons:
        message += "; " + "; ".join(reasons)
    return result, failed, message

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the constitutional-hash check behind acgs.platform.acgs_hash_check.

For each service the hash is looked for in the configured ``sources`` order
(compliance endpoint at a JSON path, its top-level key, the /health body, the
X-Constitutional-Hash header); files on the host are read by JSON/YAML path or
regex. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import time

from ansible.module_utils.common.text.converters import to_native, to_text

from ansible_collections.acgs.platform.plugins.module_utils.catalog import (
    CONSTITUTIONAL_HASH,
    DEFAULT_HOST,
    CatalogError,
    validate_hash,
)
from ansible_collections.acgs.platform.plugins.module_utils._health import catalog_services, services_from_catalog
from ansible_collections.acgs.platform.plugins.module_utils._http import get_path, http_get, join_url, parse_json
from ansible_collections.acgs.platform.plugins.module_utils._libraries import load_library
from ansible_collections.acgs.platform.plugins.module_utils._probe_args import (
    ProbeError,
    validate_common,
    validate_path,
    validate_url,
)
from ansible_collections.acgs.platform.plugins.module_utils._probe_run import elapsed_ms, run_concurrently, with_retries

SOURCES = ("compliance_endpoint", "top_level", "health", "header")
FAIL_ON = ("any", "mismatch", "never")
UNREACHABLE_KINDS = ("refused", "unreachable", "timeout", "dns", "tls")
FILE_FORMATS = ("auto", "json", "yaml", "text")

SERVICE_OPTIONS = dict(
    name=dict(type="str", required=True),
    url=dict(type="str", required=True),
    sources=dict(type="list", elements="str", choices=list(SOURCES)),
    json_path=dict(type="str"),
)


def _catalog(host, use_tls):
    try:
        return [dict(name=s["name"], url=s["url"]) for s in catalog_services(host, use_tls)]
    except CatalogError as err:
        raise ProbeError("the service catalog cannot be used: %s" % to_native(err))


def normalise(params):
    """(expected hash, services, files, sources) validated; ProbeError names the bad parameter."""
    validate_common(params)
    try:
        expected = validate_hash(params.get("expected_hash") if params.get("expected_hash") is not None
                                 else CONSTITUTIONAL_HASH, "expected_hash")
    except CatalogError as err:
        raise ProbeError(to_native(err))
    if params.get("fail_on") not in FAIL_ON:
        raise ProbeError("fail_on %r is not one of %s" % (params.get("fail_on"), ", ".join(FAIL_ON)))
    sources = list(SOURCES) if params.get("sources") is None else list(params["sources"])
    _check_sources(sources, "sources")
    validate_path(params.get("json_path"), "json_path")
    if not params.get("hash_key"):
        raise ProbeError("hash_key must not be empty")
    if not params.get("header_name") or ":" in params["header_name"]:
        raise ProbeError("header_name %r is not an HTTP header name" % (params.get("header_name"),))
    specs = params.get("services")
    if specs is None and params.get("catalog") is not None:
        specs = [dict(name=s["name"], url=s["url"]) for s in services_from_catalog(params["catalog"], params.get("use_tls"))]
    if specs is None:
        # Files alone check only the files; nothing at all checks the catalog.
        specs = [] if params.get("files") else _catalog(params.get("host") or DEFAULT_HOST, params.get("use_tls"))
    services, seen = [], set()
    for index, spec in enumerate(specs):
        where = "services[%d]" % index
        if not isinstance(spec, dict):
            raise ProbeError("%s must be a dictionary with name and url" % where)
        unknown = set(spec) - set(SERVICE_OPTIONS)
        if unknown:
            raise ProbeError("%s has unknown key(s): %s" % (where, ", ".join(sorted(unknown))))
        if not spec.get("name"):
            raise ProbeError("%s.name must not be empty" % where)
        if spec["name"] in seen:
            raise ProbeError("%s.name %r is listed twice" % (where, spec["name"]))
        seen.add(spec["name"])
        svc = {"name": spec["name"], "url": validate_url(spec.get("url"), "%s.url" % where),
               "sources": list(spec.get("sources") or sources),
               "json_path": validate_path(spec.get("json_path") or params.get("json_path"), "%s.json_path" % where)}
        _check_sources(svc["sources"], "%s.sources" % where)
        services.append(svc)
    files = []
    for index, spec in enumerate(params.get("files") or []):
        where = "files[%d]" % index
        if not isinstance(spec, dict) or not spec.get("path"):
            raise ProbeError("%s.path is required" % where)
        entry = dict(spec)
        entry.setdefault("format", "auto")
        if entry.get("format") not in FILE_FORMATS:
            raise ProbeError("%s.format %r is not one of %s" % (where, entry.get("format"), ", ".join(FILE_FORMATS)))
        if entry.get("regex") and entry.get("json_path"):
            raise ProbeError("%s: json_path and regex are mutually exclusive" % where)
        if entry.get("regex"):
            try:
                entry["compiled"] = re.compile(entry["regex"])
            except re.error as err:
                raise ProbeError("%s.regex %r is not a valid regular expression: %s" % (where, entry["regex"], err))
        elif entry["format"] == "text":
            raise ProbeError("%s: format text needs a regex" % where)
        else:
            entry["json_path"] = validate_path(entry.get("json_path") or params.get("hash_key"), "%s.json_path" % where)
        entry["name"] = entry.get("name") or entry["path"]
        files.append(entry)
    if not services and not files:
        raise ProbeError("nothing to check: give services or files")
    return expected, services, files


def _check_sources(sources, where):
    if not sources:
        raise ProbeError("%s must not be empty" % where)
    for source in sources:
        if source not in SOURCES:
            raise ProbeError("%s: %r is not one of %s" % (where, source, ", ".join(SOURCES)))
    if len(set(sources)) != len(sources):
        raise ProbeError("%s lists a source twice" % where)


def _as_hash(value):
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = to_text(value).strip().strip('"').lower()
    return text or None


def find_hash(svc, fetch, params):
    """(hash, source, source_url, problems) for one service.

    ``fetch(path)`` returns an HttpResult (cached per path by the caller).
    """
    compliance_path = params.get("compliance_path") or "/api/v1/compliance/status"
    health_path = params.get("health_path") or "/health"
    hash_key = params.get("hash_key") or "constitutional_hash"
    header = params.get("header_name") or "X-Constitutional-Hash"
    json_path = svc.get("json_path") or "data.constitutional_hash"
    problems = []

    def body(path):
        response = fetch(path)
        if response.error:
            problems.append("%s: %s" % (path, response.error))
            return response, None
        data, error = response.json()
        if error:
            problems.append("%s: HTTP %s, %s" % (path, response.status, error))
            return response, None
        return response, data

    for source in svc["sources"]:
        if source == "compliance_endpoint":
            response, data = body(compliance_path)
            found, value = get_path(data, json_path) if data is not None else (False, None)
            if found and _as_hash(value):
                return _as_hash(value), source, response.url, problems
            if data is not None:
                problems.append("%s: HTTP %s, no %s" % (compliance_path, response.status, json_path))
        elif source == "top_level":
            response, data = body(compliance_path)
            if isinstance(data, dict) and _as_hash(data.get(hash_key)):
                return _as_hash(data.get(hash_key)), source, response.url, problems
            if data is not None:
                problems.append("%s: no top-level %s" % (compliance_path, hash_key))
        elif source == "health":
            response, data = body(health_path)
            if isinstance(data, dict):
                for path in (hash_key, json_path):
                    found, value = get_path(data, path)
                    if found and _as_hash(value):
                        return _as_hash(value), source, response.url, problems
                problems.append("%s: no %s in the body" % (health_path, hash_key))
        elif source == "header":
            for path in (compliance_path, health_path):
                response = fetch(path)
                value = _as_hash(response.header(header)) if not response.error else None
                if value:
                    return value, source, response.url, problems
            problems.append("no %s header" % header)
    return None, None, None, problems


def _dedupe(items):
    seen, out = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def check_service(svc, params, expected):
    """A complete per-service result; never raises."""
    cache = {}
    start = time.monotonic()

    def fetch(path):
        if path not in cache:
            url = join_url(svc["url"], path)
            dead = [r for r in cache.values() if r.error_kind in UNREACHABLE_KINDS]
            if dead:
                # The server did not take the first request: asking it again would only add a timeout.
                cache[path] = dead[0]
                return dead[0]
            cache[path], _attempts = with_retries(
                lambda: http_get(url, params), params.get("retries", 0), params.get("retry_delay", 0),
                lambda r: r.error is None and r.status is not None and r.status < 500)
        return cache[path]

    value, source, source_url, problems = find_hash(svc, fetch, params)
    res = {"name": svc["name"], "url": svc["url"], "hash": value, "source": source, "source_url": source_url,
           "compliant": False, "error": None, "latency_ms": elapsed_ms(start)}
    if value is None:
        res["error"] = "no constitutional hash found (%s)" % "; ".join(_dedupe(problems))
    elif value != expected:
        res["error"] = "hash %s from %s does not match the expected %s" % (value, source, expected)
    else:
        res["compliant"] = True
    return res


def read_file_hash(entry):
    """(hash, source, error) for one file entry."""
    path = entry["path"]
    try:
        with open(path, "rb") as handle:
            raw = handle.read(16 * 1024 * 1024)
    except (IOError, OSError) as err:
        return None, None, "cannot read %s: %s" % (path, err.strerror or to_native(err))
    text = raw.decode("utf-8", "replace")
    if entry.get("compiled") is not None:
        match = entry["compiled"].search(text)
        if not match:
            return None, "regex", "regex %r does not match %s" % (entry["regex"], path)
        value = match.group(1) if match.groups() else match.group(0)
        return _as_hash(value), "regex", None
    fmt = entry.get("format") or "auto"
    if fmt == "auto":
        ext = os.path.splitext(path)[1].lower()
        fmt = "json" if ext == ".json" else "yaml"
    if fmt == "json":
        data, error = parse_json(raw)
        if error:
            return None, "json_path", "%s: %s" % (path, error.replace("response body", "file"))
    else:
        yaml = load_library("yaml")
        if yaml is None:
            return None, "json_path", "PyYAML is required to read %s" % path
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            return None, "json_path", "%s is not valid YAML: %s" % (path, to_native(err).splitlines()[0])
    found, value = get_path(data, entry["json_path"])
    if not found or _as_hash(value) is None:
        return None, "json_path", "%s has no %s" % (path, entry["json_path"])
    return _as_hash(value), "json_path", None


def check_file(entry, expected):
    value, source, error = read_file_hash(entry)
    res = {"name": entry["name"], "path": entry["path"], "hash": value,
           "source": ("file:%s" % source) if source else None, "compliant": False, "error": error}
    if value is not None and error is None:
        if value == expected:
            res["compliant"] = True
        else:
            res["error"] = "hash %s in %s does not match the expected %s" % (value, entry["path"], expected)
    return res


def empty_result(expected=None):
    return {
        "changed": False,
        "compliant": False,
        "compliance_percent": 0.0,
        "expected_hash": expected,
        "services": [],
        "files": [],
        "mismatches": [],
        "missing": [],
        "summary": {"total": 0, "compliant": 0, "mismatched": 0, "missing": 0},
        "elapsed_ms": 0,
    }


def run_hash_check(params):
    """(result, failed, message); ProbeError on bad input."""
    start = time.monotonic()
    expected, services, files = normalise(params)
    calls = [(lambda s=svc: check_service(s, params, expected)) for svc in services]
    calls += [(lambda f=entry: check_file(f, expected)) for entry in files]
    results = run_concurrently(calls, params.get("max_workers") or 64)
    svc_results, file_results = results[:len(services)], results[len(services):]
    everything = svc_results + file_results
    mismatches = [{"name": r["name"], "found": r["hash"], "expected": expected, "source": r["source"]}
                  for r in everything if r["hash"] is not None and not r["compliant"]]
    missing = [r["name"] for r in everything if r["hash"] is None]
    good = sum(1 for r in everything if r["compliant"])
    result = empty_result(expected)
    result.update(
        compliant=good == len(everything),
        compliance_percent=round(100.0 * good / len(everything), 1) if everything else 0.0,
        services=svc_results, files=file_results, mismatches=mismatches, missing=missing,
        summary={"total": len(everything), "compliant": good, "mismatched": len(mismatches), "missing": len(missing)},
        elapsed_ms=elapsed_ms(start))
    fail_on = params.get("fail_on") or "any"
    failed = (fail_on == "any" and not result["compliant"]) or (fail_on == "mismatch" and bool(mismatches))
    message = "constitutional compliance %.1f%% (%d/%d match %s)" % (
        result["compliance_percent"], good, len(everything), expected)
    if mismatches:
        message += "; mismatched: " + ", ".join("%s=%s" % (m["name"], m["found"]) for m in mismatches)
    if missing:
        message += "; no hash found: " + ", ".join(missing)
    return result, failed, message

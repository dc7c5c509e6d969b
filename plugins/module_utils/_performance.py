# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Performance validation: wrk's output, host samples, the runbook's KPIs, stress steps, the picture.

Pure functions (no I/O) except where named: the acgs_loadtest module runs wrk and samples
/proc, the performance filters evaluate the KPIs and draw the report's picture.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math

try:
    from html import escape as _escape
except ImportError:  # Python 2 (sanity's compile test only)
    from cgi import escape as _escape  # pylint: disable=deprecated-module

# The marker wrk's done() callback prints before its JSON line (LUA_SCRIPT).
WRK_MARKER = "ACGS_WRK "

# wrk script: each connection alternates the service contract's two endpoints (/health and
# /api/v1/compliance/status); done() prints the summary and exact percentiles as one JSON line
# (wrk --latency prints no P95). Latencies are in microseconds.
LUA_SCRIPT = r"""
local paths = {%(paths)s}
local reqs = {}
local n = 0
init = function(args)
  for i, p in ipairs(paths) do reqs[i] = wrk.format("GET", p) end
end
request = function()
  n = n + 1
  return reqs[(n %% #reqs) + 1]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('%(marker)s{"requests": %%d, "duration_us": %%d, "bytes": %%d, ' ..
    '"errors": {"connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d}, ' ..
    '"latency_us": {"min": %%d, "mean": %%.1f, "max": %%d, "p50": %%d, "p90": %%d, "p95": %%d, "p99": %%d, "p999": %%d}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), latency:percentile(99.9)))
end
"""

DEFAULT_PATHS = ("/health", "/api/v1/compliance/status")

# KPI name -> (comparison, unit, title). "lt": measured must be below the threshold, "gt": above.
KPIS = {
    "throughput_rps": ("gt", "req/s", "Throughput"),
    "p95_ms": ("lt", "ms", "Response time P95"),
    "p99_ms": ("lt", "ms", "Response time P99"),
    "error_rate_percent": ("lt", "%", "Error rate"),
    "cpu_percent": ("lt", "%", "CPU utilization"),
    "memory_percent": ("lt", "%", "Memory utilization"),
    "db_pool_percent": ("lt", "%", "PostgreSQL connection pool"),
    "cache_hit_rate_percent": ("gt", "%", "Redis cache hit rate"),
    "compliance_percent": ("gte", "%", "Constitutional compliance"),
}
KPI_ORDER = tuple(KPIS)


class PerformanceError(Exception):
    """Input the performance helpers cannot use; the message names it."""


def lua_script(paths=DEFAULT_PATHS):
    """The wrk script for these request paths."""
    if not paths:
        raise PerformanceError("paths: at least one request path is needed")
    for path in paths:
        if not isinstance(path, str) or not path.startswith("/") or '"' in path or "\\" in path:
            raise PerformanceError("paths: %r is not an absolute path without quotes" % (path,))
    return LUA_SCRIPT % {"paths": ", ".join('"%s"' % p for p in paths), "marker": WRK_MARKER}


def parse_wrk(text):
    """The JSON line LUA_SCRIPT's done() printed, with derived figures in milliseconds."""
    for line in (text or "").splitlines():
        if line.startswith(WRK_MARKER):
            try:
                raw = json.loads(line[len(WRK_MARKER):])
            except ValueError as exc:
                raise PerformanceError("wrk printed an unreadable summary: %s" % exc)
            break
    else:
        raise PerformanceError("wrk printed no summary line (%r); its output: %s" % (WRK_MARKER.strip(), (text or "")[-400:]))
    requests = int(raw["requests"])
    seconds = raw["duration_us"] / 1e6
    errors = raw["errors"]
    failed = int(errors["status"]) + int(errors["connect"]) + int(errors["read"]) + int(errors["write"]) + int(errors["timeout"])
    lat = raw["latency_us"]
    return {
        "requests": requests,
        "seconds": round(seconds, 3),
        "throughput_rps": round(requests / seconds, 1) if seconds > 0 else 0.0,
        "errors": dict((k, int(v)) for k, v in errors.items()),
        "failed": failed,
        "error_rate_percent": round(100.0 * failed / (requests + int(errors["connect"])), 3) if requests else (100.0 if failed else 0.0),
        "p50_ms": lat["p50"] / 1000.0,
        "p90_ms": lat["p90"] / 1000.0,
        "p95_ms": lat["p95"] / 1000.0,
        "p99_ms": lat["p99"] / 1000.0,
        "p999_ms": lat["p999"] / 1000.0,
        "max_ms": lat["max"] / 1000.0,
        "mean_ms": round(lat["mean"] / 1000.0, 3),
    }


def unreachable(message):
    """The result of a service wrk could not connect to: one connect error, no requests, no latency."""
    out = {"requests": 0, "seconds": 0.0, "throughput_rps": 0.0, "errors": dict((k, 0) for k in ("read", "write", "status", "timeout")),
           "failed": 1, "error_rate_percent": 100.0, "unreachable": message}
    out["errors"]["connect"] = 1
    out.update((k, None) for k in ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms", "mean_ms"))
    return out


def cpu_times(proc_stat):
    """(busy, total) jiffies of the 'cpu' line of /proc/stat (iowait counts as idle)."""
    for line in proc_stat.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            values = [int(v) for v in fields[1:]]
            # user nice system idle iowait irq softirq steal guest guest_nice; guest* are in user.
            total = sum(values[:8])
            idle = values[3] + (values[4] if len(values) > 4 else 0)
            return total - idle, total
    raise PerformanceError("/proc/stat has no 'cpu' line")


def cpu_percent(before, after):
    """CPU use in percent of all cores between two cpu_times() samples."""
    busy = after[0] - before[0]
    total = after[1] - before[1]
    return round(100.0 * busy / total, 1) if total > 0 else None


def memory_percent(meminfo):
    """Memory in use (MemTotal - MemAvailable) in percent of MemTotal, from /proc/meminfo."""
    values = {}
    for line in meminfo.splitlines():
        key, _sep, rest = line.partition(":")
        if rest.strip():
            values[key] = int(rest.split()[0])
    if "MemTotal" not in values or "MemAvailable" not in values:
        raise PerformanceError("/proc/meminfo lacks MemTotal or MemAvailable")
    return round(100.0 * (values["MemTotal"] - values["MemAvailable"]) / values["MemTotal"], 1)


def combine(services, seconds):
    """One step (or slice) of parallel wrk runs, one per service: totals and the worst service.

    Throughput is the sum of the services'; the error rate is of all requests; each latency
    percentile is the worst service's (percentiles of different runs cannot be merged, so the
    step meets a latency SLA only when every service meets it).
    """
    if not services:
        raise PerformanceError("combine: no service results")
    requests = sum(s["requests"] for s in services.values())
    failed = sum(s["failed"] for s in services.values())
    connect = sum(s["errors"]["connect"] for s in services.values())
    out = {
        "requests": requests,
        "failed": failed,
        "seconds": seconds,
        "throughput_rps": round(sum(s["throughput_rps"] for s in services.values()), 1),
        "error_rate_percent": round(100.0 * failed / (requests + connect), 3) if requests + connect else 0.0,
    }
    measured = [name for name in services if services[name].get("p50_ms") is not None]
    for key in ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms"):
        worst = max(measured, key=lambda name, k=key: services[name][k]) if measured else None
        out[key] = services[worst][key] if worst else None
        out[key.replace("_ms", "_service")] = worst
    out["unreachable"] = sorted(name for name in services if services[name].get("unreachable"))
    return out


def summarize(slices):
    """A whole run from its consecutive slices: request totals, and the worst slice's percentiles."""
    if not slices:
        raise PerformanceError("summarize: no slices")
    requests = sum(s["requests"] for s in slices)
    failed = sum(s["failed"] for s in slices)
    seconds = sum(s["seconds"] for s in slices)
    out = {
        "requests": requests,
        "failed": failed,
        "seconds": round(seconds, 3),
        "throughput_rps": round(requests / seconds, 1) if seconds > 0 else 0.0,
        "error_rate_percent": round(100.0 * failed / requests, 3) if requests else (100.0 if failed else 0.0),
    }
    for key in ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms"):
        values = [s[key] for s in slices if s.get(key) is not None]
        out[key] = max(values) if values else None
    cpu = [s["cpu_percent"] for s in slices if s.get("cpu_percent") is not None]
    mem = [s["memory_percent"] for s in slices if s.get("memory_percent") is not None]
    out["cpu_percent"] = max(cpu) if cpu else None
    out["memory_percent"] = max(mem) if mem else None
    return out


def _number(value, what):
    if isinstance(value, bool):
        raise PerformanceError("%s must be a number, got %r" % (what, value))
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise PerformanceError("%s must be a number, got %r" % (what, value))
    if math.isnan(number):
        raise PerformanceError("%s must be a number, got NaN" % what)
    return number


def kpi(name, measured, threshold, source="", note=""):
    """One KPI's verdict: measured against threshold; measured None is 'not measured' (never a pass)."""
    if name not in KPIS:
        raise PerformanceError("unknown KPI %r (one of %s)" % (name, ", ".join(KPI_ORDER)))
    comparison, unit, title = KPIS[name]
    limit = _number(threshold, "threshold of %s" % name)
    record = {"name": name, "title": title, "unit": unit, "comparison": comparison, "threshold": limit,
              "measured": None, "passed": None, "status": "not measured", "source": source, "note": note}
    if measured is None:
        if not note:
            record["note"] = "no measurement"
        return record
    value = _number(measured, "measured %s" % name)
    if comparison == "lt":
        passed = value < limit
    elif comparison == "gt":
        passed = value > limit
    else:
        passed = value >= limit
    record.update(measured=value, passed=passed, status="passed" if passed else "failed")
    return record


def evaluate(measurements, thresholds):
    """Every KPI of thresholds judged against measurements ({name: {value, source, note}}).

    Returns {kpis, passed, failed, not_measured}: passed is true when no KPI failed and, if
    thresholds lists it, every KPI was measured; a KPI that could not be measured is listed in
    not_measured with why, never counted as passed.
    """
    if not isinstance(thresholds, dict) or not thresholds:
        raise PerformanceError("thresholds must be a non-empty dict of KPI name to threshold")
    measurements = measurements or {}
    kpis = []
    for name in sorted(thresholds, key=lambda n: KPI_ORDER.index(n) if n in KPIS else len(KPI_ORDER)):
        m = measurements.get(name) or {}
        if not isinstance(m, dict):
            m = {"value": m}
        kpis.append(kpi(name, m.get("value"), thresholds[name], m.get("source", ""), m.get("note", "")))
    failed = [k["name"] for k in kpis if k["status"] == "failed"]
    unmeasured = [k["name"] for k in kpis if k["status"] == "not measured"]
    return {"kpis": kpis, "failed": failed, "not_measured": unmeasured, "passed": not failed}


def _prometheus_counts(results, what):
    """{service: count} of an instant query's vector result (one sample per service)."""
    counts = {}
    for sample in results or []:
        try:
            service = (sample.get("metric") or {}).get("service", "")
            value = float(sample["value"][1])
        except (AttributeError, KeyError, IndexError, TypeError, ValueError):
            raise PerformanceError("%s: not a Prometheus vector sample: %r" % (what, sample))
        if math.isnan(value) or math.isinf(value):
            continue
        counts[service] = counts.get(service, 0.0) + value
    return counts


def _rate(hits, lookups):
    return round(100.0 * hits / lookups, 2) if lookups > 0 else None


def cache_hit_rate(prometheus=None, redis_before=None, redis_after=None):
    """The Redis cache hit rate's measurement ({value, source, note}) and both of its sources.

    prometheus: {"hits": result, "misses": result, "errors": result}, each the vector result of an
    instant query of the services' counters' increase over the run, summed by service
    (acgs_cache_hits_total, acgs_cache_misses_total, acgs_cache_errors_total{operation="get"}), or
    None when Prometheus was not read. redis_before, redis_after: Redis INFO fields (keyspace_hits,
    keyspace_misses) before and after the load, or None.

    The services' counters come first: they count exactly the services' cache lookups, and a
    lookup that failed (Redis down or slow) counts against the rate. Redis's INFO counts every
    client's key lookups; it is the measurement only when no service exports the counters, and
    is reported beside them otherwise. Neither with a lookup: not measured, with why.
    """
    prometheus = prometheus or {}
    counts = dict((kind, _prometheus_counts(prometheus.get(kind), "cache %s" % kind)) for kind in ("hits", "misses", "errors"))
    services = sorted(set(counts["hits"]) | set(counts["misses"]) | set(counts["errors"]))
    per_service = {}
    for name in services:
        hits, misses, errors = (int(round(counts[k].get(name, 0.0))) for k in ("hits", "misses", "errors"))
        per_service[name] = {"hits": hits, "misses": misses, "errors": errors, "hit_rate_percent": _rate(hits, hits + misses + errors)}
    prom = dict((k, sum(s[k] for s in per_service.values())) for k in ("hits", "misses", "errors"))
    prom["lookups"] = prom["hits"] + prom["misses"] + prom["errors"]
    prom["hit_rate_percent"] = _rate(prom["hits"], prom["lookups"])
    prom["services"] = per_service

    redis = {"hits": None, "misses": None, "lookups": None, "hit_rate_percent": None, "note": ""}
    before, after = redis_before or {}, redis_after or {}
    redis_hits = redis_lookups = 0
    try:
        deltas = [int(after[k]) - int(before[k]) for k in ("keyspace_hits", "keyspace_misses")]
    except (KeyError, TypeError, ValueError):
        redis["note"] = "Redis's INFO was not read before and after the load"
    else:
        if min(deltas) < 0:
            redis["note"] = "Redis's counters went down during the load (a restart or CONFIG RESETSTAT)"
        else:
            redis_hits, redis_lookups = deltas[0], sum(deltas)
            redis.update(hits=redis_hits, misses=deltas[1], lookups=redis_lookups, hit_rate_percent=_rate(redis_hits, redis_lookups))

    out = {"value": None, "source": "", "note": "", "prometheus": prom, "redis": redis}
    if prom["lookups"] > 0:
        rates = ", ".join("%s %s%%" % (name, per_service[name]["hit_rate_percent"])
                          for name in services if per_service[name]["hit_rate_percent"] is not None)
        out["value"] = prom["hit_rate_percent"]
        out["source"] = ("Prometheus: the services' acgs_cache_hits_total / (hits + misses + failed lookups) over the run, %d of %d lookups (%s)"
                         % (prom["hits"], prom["lookups"], rates))
        if redis_lookups:
            out["source"] += "; Redis INFO beside it: %s%% of %d key lookups" % (redis["hit_rate_percent"], redis_lookups)
    elif redis_lookups:
        out["value"] = redis["hit_rate_percent"]
        out["source"] = "Redis INFO keyspace_hits / (hits + misses) between before and after the load, %d of %d lookups" % (
            redis_hits, redis_lookups)
        out["note"] = "no service exports acgs_cache_* counters: Redis's counters include every client's key lookups"
    elif services:
        out["note"] = "the services' caches (%s) saw no lookup during the load" % ", ".join(services)
    else:
        out["note"] = ("no service exports acgs_cache_* counters and Redis served no key lookups during the load: nothing uses Redis as a "
                       "cache%s" % ("" if not redis["note"] else " (%s)" % redis["note"]))
    return out


def step_verdict(step, sla):
    """Whether a stress step met every SLA of sla ({kpi: threshold}); (met, [KPIs broken])."""
    broken = []
    for name in sorted(sla, key=lambda n: KPI_ORDER.index(n) if n in KPIS else len(KPI_ORDER)):
        record = kpi(name, step.get(name), sla[name])
        if record["status"] != "passed":
            broken.append(name)
    return not broken, broken


def next_connections(current, factor, maximum):
    """The next stress step's connections per service (at least one more), or None past maximum."""
    if current < 1 or factor <= 1:
        raise PerformanceError("stress steps need connections >= 1 and a factor > 1")
    nxt = max(current + 1, int(math.ceil(current * factor)))
    return nxt if nxt <= maximum else None


def stress_result(steps):
    """The stress outcome from its steps (each with connections, met, broken, throughput_rps)."""
    highest = None
    broke = None
    for step in steps:
        if step["met"]:
            if highest is None or step["throughput_rps"] > highest["throughput_rps"]:
                highest = step
        elif broke is None:
            broke = step
    return {
        "highest_rate_meeting_sla_rps": highest["throughput_rps"] if highest else None,
        "at_connections": highest["connections"] if highest else None,
        "broken_at_connections": broke["connections"] if broke else None,
        "broken_by": broke["broken"] if broke else [],
        "sla_broken": broke is not None,
    }


# --- the picture -------------------------------------------------------------------------------

def _fmt(value):
    if value is None:
        return "-"
    if isinstance(value, float) and abs(value) >= 100:
        return "%.0f" % value
    if isinstance(value, float):
        return "%.3g" % value
    return str(value)


def _chart(title, series, hlines, x_label, y_label, log=False, width=820, height=260):
    """One SVG line chart. series: [(label, colour, [(x, y)])], hlines: [(label, colour, y)]."""
    left, right, top, bottom = 70, 230, 30, 40
    pw, ph = width - left - right, height - top - bottom
    xs = [x for _l, _c, pts in series for x, _y in pts]
    ys = [y for _l, _c, pts in series for _x, y in pts if y is not None] + [y for _l, _c, y in hlines]
    if log:
        ys = [y for y in ys if y > 0]
    x0, x1 = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if x1 <= x0:
        x1 = x0 + 1.0
    if ys:
        y0, y1 = min(ys), max(ys)
    else:
        y0, y1 = (0.1, 1.0) if log else (0.0, 1.0)
    if log:
        y0, y1 = 10 ** math.floor(math.log10(y0)), 10 ** math.ceil(math.log10(y1))
        if y1 <= y0:
            y1 = y0 * 10
    else:
        y0 = 0.0
        y1 = y1 * 1.1 if y1 > 0 else 1.0

    def px(x):
        return left + pw * (x - x0) / (x1 - x0)

    def py(y):
        if log:
            y = max(y, y0)
            return top + ph * (1 - (math.log10(y) - math.log10(y0)) / (math.log10(y1) - math.log10(y0)))
        return top + ph * (1 - (y - y0) / (y1 - y0))

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="%s">' % (width, height, _escape(title)),
           '<rect x="0" y="0" width="%d" height="%d" fill="#fff"/>' % (width, height),
           '<text x="%d" y="18" font-size="14" font-weight="bold">%s</text>' % (left, _escape(title)),
           '<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>' % (left, top, pw, ph)]
    ticks = []
    if log:
        t = y0
        while t <= y1 * 1.0001:
            ticks.append(t)
            t *= 10
    else:
        ticks = [y0 + (y1 - y0) * i / 4.0 for i in range(5)]
    for t in ticks:
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#eee"/>' % (left, left + pw, py(t), py(t)))
        out.append('<text x="%d" y="%.1f" font-size="10" text-anchor="end">%s</text>' % (left - 4, py(t) + 3, _fmt(float(t))))
    for i in range(5):
        x = x0 + (x1 - x0) * i / 4.0
        out.append('<text x="%.1f" y="%d" font-size="10" text-anchor="middle">%s</text>' % (px(x), top + ph + 14, _fmt(float(x))))
    out.append('<text x="%d" y="%d" font-size="11" text-anchor="middle">%s</text>' % (left + pw // 2, height - 6, _escape(x_label)))
    out.append('<text x="14" y="%d" font-size="11" transform="rotate(-90 14 %d)" text-anchor="middle">%s</text>'
               % (top + ph // 2, top + ph // 2, _escape(y_label)))
    legend_y = top + 4
    for label, colour, y in hlines:
        if y1 >= y >= y0 or (not log and y >= 0):
            out.append('<line class="sla" x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="6 4" stroke-width="1.5"/>'
                       % (left, left + pw, py(min(y, y1)), py(min(y, y1)), colour))
        out.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-dasharray="6 4"/><text x="%d" y="%d" font-size="10">%s</text>'
                   % (left + pw + 8, left + pw + 28, legend_y, legend_y, colour, left + pw + 32, legend_y + 3, _escape(label)))
        legend_y += 14
    for label, colour, pts in series:
        drawn = [(x, y) for x, y in pts if y is not None and (y > 0 or not log)]
        if drawn:
            path = " ".join("%.1f,%.1f" % (px(x), py(y)) for x, y in drawn)
            out.append('<polyline class="series" data-label="%s" fill="none" stroke="%s" stroke-width="2" points="%s"/>'
                       % (_escape(label), colour, path))
            for x, y in drawn:
                out.append('<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>' % (px(x), py(y), colour))
        out.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"/><text x="%d" y="%d" font-size="10">%s</text>'
                   % (left + pw + 8, left + pw + 28, legend_y, legend_y, colour, left + pw + 32, legend_y + 3, _escape(label)))
        legend_y += 14
    out.append("</svg>")
    return "\n".join(out)


_LABELS = {"p50_ms": "P50", "p95_ms": "P95", "p99_ms": "P99"}


def render_html(report):
    """A self-contained HTML page (inline SVG, no script) of a validation or stress report."""
    slices = report.get("slices") or report.get("steps") or []
    stress = report.get("mode") == "stress"
    x_key = "connections" if stress else "elapsed_seconds"
    x_label = "connections per service" if stress else "seconds since the load started"
    thresholds = dict((k["name"], k["threshold"]) for k in report.get("kpis") or [])
    sla = report.get("sla") or thresholds
    lat_series = []
    for key, colour in (("p50_ms", "#1f77b4"), ("p95_ms", "#ff7f0e"), ("p99_ms", "#d62728")):
        lat_series.append(("%s (wrk, worst service)" % _LABELS[key], colour,
                           [(float(s[x_key]), s.get(key)) for s in slices]))
    prom = report.get("prometheus") or {}
    for key, colour in (("p95_ms", "#9467bd"), ("p99_ms", "#8c564b")):
        points = (prom.get("series") or {}).get(key) or []
        if points and not stress:
            lat_series.append(("%s (Prometheus, worst service)" % _LABELS[key], colour,
                               [(float(p[0]), p[1]) for p in points]))
    lat_lines = [("%s SLA %s ms" % (_LABELS[k], _fmt(float(sla[k]))), c, float(sla[k]))
                 for k, c in (("p95_ms", "#ff7f0e"), ("p99_ms", "#d62728")) if k in sla]
    tp_series = [("throughput (wrk, all services)", "#2ca02c", [(float(s[x_key]), s.get("throughput_rps")) for s in slices])]
    points = (prom.get("series") or {}).get("throughput_rps") or []
    if points and not stress:
        tp_series.append(("throughput (Prometheus)", "#17becf", [(float(p[0]), p[1]) for p in points]))
    tp_lines = [("throughput SLA %s req/s" % _fmt(float(sla["throughput_rps"])), "#2ca02c", float(sla["throughput_rps"]))] \
        if "throughput_rps" in sla else []
    verdict = "PASSED" if report.get("passed") else "FAILED"
    rows = []
    for k in report.get("kpis") or []:
        rows.append("<tr class=\"%s\"><td>%s</td><td>%s %s</td><td>%s %s %s</td><td>%s</td><td>%s</td></tr>" % (
            k["status"].replace(" ", "-"), _escape(k["title"]), _escape(_fmt(k["measured"])), _escape(k["unit"]),
            {"lt": "&lt;", "gt": "&gt;", "gte": "&ge;"}[k["comparison"]], _escape(_fmt(k["threshold"])), _escape(k["unit"]),
            _escape(k["status"]), _escape(k.get("note") or k.get("source") or "")))
    title = "ACGS performance %s %s" % ("stress test" if stress else "validation", report.get("id", ""))
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8"><title>%s</title>' % _escape(title),
        "<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}"
        ".failed{background:#fdd}.passed{background:#dfd}.not-measured{background:#eee}</style></head><body>",
        "<h1>%s: %s</h1>" % (_escape(title), verdict),
        "<p>%s</p>" % _escape(report.get("summary_line", "")),
        _chart("Latency percentiles (log scale)", lat_series, lat_lines, x_label, "milliseconds", log=True),
        _chart("Throughput", tp_series, tp_lines, x_label, "requests per second"),
    ]
    if rows:
        parts.append("<table><tr><th>KPI</th><th>measured</th><th>threshold</th><th>result</th><th>how / why</th></tr>%s</table>"
                     % "".join(rows))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# --- running wrk (the acgs_loadtest module) ----------------------------------------------------

def _read(path):
    with open(path) as handle:
        return handle.read()


def run_slice(wrk, targets, script_path, threads, connections, seconds, timeout, proc_dir="/proc", poll=0.5):
    """One wrk per target, all at once, for `seconds`; CPU and peak memory of this host meanwhile.

    Returns the combined step with per-service results; a wrk that fails or prints no summary
    raises PerformanceError naming the service. Bounded: a wrk still running `seconds + timeout
    + 10` s after it started is killed.
    """
    import subprocess
    import time

    procs = {}
    started = time.time()
    cpu0 = cpu_times(_read(proc_dir + "/stat"))
    mem_peak = memory_percent(_read(proc_dir + "/meminfo"))
    try:
        for target in targets:
            argv = [wrk, "-t%d" % threads, "-c%d" % max(connections, threads), "-d%ds" % seconds,
                    "--timeout", "%ds" % timeout, "-s", script_path, target["url"]]
            procs[target["name"]] = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                                     universal_newlines=True)
        deadline = started + seconds + timeout + 10
        while any(p.poll() is None for p in procs.values()):
            if time.time() > deadline:
                raise PerformanceError("wrk did not finish within %d s" % (seconds + timeout + 10))
            mem_peak = max(mem_peak, memory_percent(_read(proc_dir + "/meminfo")))
            time.sleep(poll)  # a sampling period while wrk does the work
        ended = time.time()
        cpu1 = cpu_times(_read(proc_dir + "/stat"))
        services = {}
        for name, proc in procs.items():
            output = proc.stdout.read()
            if proc.returncode != 0 and "unable to connect" in output:
                # wrk gives up at once when it cannot connect: the service is unreachable, every
                # request it would have sent an error (its latency unknown, not zero: left out).
                services[name] = unreachable(output.strip())
                continue
            if proc.returncode != 0:
                raise PerformanceError("wrk against %s exited %d: %s" % (name, proc.returncode, output[-400:]))
            try:
                services[name] = parse_wrk(output)
            except PerformanceError as exc:
                raise PerformanceError("%s: %s" % (name, exc))
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout:
                proc.stdout.close()
    step = combine(services, round(ended - started, 3))
    step.update(start=round(started, 3), end=round(ended, 3), connections=connections,
                cpu_percent=cpu_percent(cpu0, cpu1), memory_percent=mem_peak, services=services)
    return step

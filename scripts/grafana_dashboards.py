"""Render the runbook's four Grafana dashboards (roles/grafana/files/dashboards/*.json).

The dashboards are generated, not written by hand: every panel's PromQL and every SLA
threshold comes from roles/common/defaults/main/monitoring.yml (acgs_monitoring_queries,
acgs_sla), the one place the alert rules and the tests read them too, and Grafana's own
foundation SDK (grafana-foundation-sdk, builders generated from Grafana's schema) gives
the JSON its shape. The JSON files are committed so that the role needs neither Python
libraries nor this script on the controller; `--check` (make monitoring-tests) fails
when they differ from what this renders.

    python3 scripts/grafana_dashboards.py          # write the files (the venv's python3)
    python3 scripts/grafana_dashboards.py --check  # exit 1 when a file is stale
"""
import argparse
import json
import os
import sys

import yaml
from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.builders.dashboard import (
    DatasourceVariable, Dashboard, ThresholdsConfig)
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.builders.common import (
    GraphThresholdsStyleConfig, ReduceDataOptions, VizLegendOptions, VizTooltipOptions)
from grafana_foundation_sdk.models.common import (
    GraphTresholdsStyleMode, LegendDisplayMode, LegendPlacement, TooltipDisplayMode)  # sic: Tresholds
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef, GridPos, Threshold, ThresholdsMode)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FACTS = os.path.join(ROOT, "roles", "common", "defaults", "main", "monitoring.yml")
# The performance KPIs' thresholds (the cache hit rate's), written once there.
PERFORMANCE = os.path.join(ROOT, "roles", "common", "defaults", "main", "performance.yml")
OUT = os.path.join(ROOT, "roles", "grafana", "files", "dashboards")
# Bound to whichever Prometheus data source the Grafana it is provisioned to has.
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
WIDTH = {"stat": 6, "timeseries": 12}
HEIGHT = {"stat": 5, "timeseries": 8}


def thresholds(base, steps):
    """The base colour, then [(from value, colour), ...]."""
    config = ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE)
    return config.steps([Threshold(value=None, color=base)]
                        + [Threshold(value=value, color=colour) for value, colour in steps])


# Thresholds: (base colour, [(from value, colour)]).
UP = ("red", [(1, "green")])


def at_least(target):
    """Red below a target to reach."""
    return ("red", [(target, "green")])


def below(limit):
    """Red from a limit not to reach."""
    return ("green", [(limit, "red")])


def dashboards(sla, kpis):
    """uid -> (title, description, [(query name, panel kind, unit, thresholds or None)])."""
    sla_text = ("The runbook's SLA targets: uptime %s%%, P95 below %ss, errors below %s%%, compliance %s%%."
                % (sla["uptime_percent"], sla["response_time_p95_seconds"], sla["error_rate_percent"], sla["compliance_percent"]))
    return {
        "acgs-overview": ("ACGS system overview", "The platform at a glance: services up, traffic, latency, errors, hash.", [
            ("services_up", "stat", "none", None),
            ("compliance_percent", "stat", "percent", at_least(sla["compliance_percent"])),
            ("alerts_firing", "stat", "none", below(1)),
            ("availability", "stat", "none", UP),
            ("request_rate", "timeseries", "reqps", None),
            ("response_time_p95", "timeseries", "s", below(sla["response_time_p95_seconds"])),
            ("error_rate", "timeseries", "percent", below(sla["error_rate_percent"])),
            ("probe_success", "timeseries", "none", None),
        ]),
        "acgs-services": ("ACGS service health", "Each service from inside (its metrics) and outside (probes through HAProxy).", [
            ("availability", "stat", "none", UP),
            ("scrape_up", "stat", "none", UP),
            ("probe_success", "stat", "none", UP),
            ("dependency_up", "stat", "none", UP),
            ("request_rate", "timeseries", "reqps", None),
            ("requests_in_flight", "timeseries", "none", None),
            ("response_time_p95", "timeseries", "s", below(sla["response_time_p95_seconds"])),
            ("response_time_p99", "timeseries", "s", None),
            ("probe_duration", "timeseries", "s", None),
            ("tls_certificate_days", "timeseries", "d", at_least(30)),
            ("cache_hit_rate", "timeseries", "percent", at_least(kpis["cache_hit_rate_percent"])),
        ]),
        "acgs-sla": ("ACGS SLA compliance", sla_text, [
            ("uptime_24h", "stat", "percent", at_least(sla["uptime_percent"])),
            ("compliance_percent", "stat", "percent", at_least(sla["compliance_percent"])),
            ("response_time_p95", "timeseries", "s", below(sla["response_time_p95_seconds"])),
            ("error_rate", "timeseries", "percent", below(sla["error_rate_percent"])),
        ]),
        "acgs-constitutional": ("ACGS constitutional compliance", "Every service reports, and answers with, the expected constitutional hash.", [
            ("compliance_percent", "stat", "percent", at_least(sla["compliance_percent"])),
            ("constitutional_compliance", "stat", "none", UP),
            ("probe_compliance", "stat", "none", UP),
            ("constitutional_compliance", "timeseries", "none", None),
        ]),
    }


def panel(panel_id, query, kind, unit, steps, pos):
    builder = (stat.Panel() if kind == "stat" else timeseries.Panel())
    legend = "{{service}} {{module}}" if "blackbox" in query["expr"] else (
        "{{service}} {{dependency}}" if "dependency" in query["expr"] else "{{service}}")
    target = prometheus.Dataquery().expr(query["expr"]).ref_id("A")
    if query.get("per_service") or query.get("by_service"):
        target = target.legend_format(legend)
    builder = (builder.id(panel_id).title(query["title"]).datasource(DATASOURCE).unit(unit)
               .grid_pos(pos).with_target(target))
    if kind == "stat":
        builder = builder.reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    else:
        builder = (builder.legend(VizLegendOptions().display_mode(LegendDisplayMode.LIST).placement(LegendPlacement.BOTTOM)
                                  .show_legend(True))
                   .tooltip(VizTooltipOptions().mode(TooltipDisplayMode.MULTI)))
    if steps:
        builder = builder.thresholds(thresholds(*steps))
        if kind == "timeseries":
            builder = builder.thresholds_style(GraphThresholdsStyleConfig().mode(GraphTresholdsStyleMode.LINE))
    return builder


def render(queries, sla, kpis):
    out = {}
    for uid, (title, description, panels) in dashboards(sla, kpis).items():
        board = (Dashboard(title).uid(uid).description(description).tags(["acgs"]).refresh("30s")
                 .time("now-6h", "now").timezone("browser").editable()
                 .with_variable(DatasourceVariable("datasource").label("Prometheus").type("prometheus")))
        x = y = row_height = 0
        for number, (name, kind, unit, steps) in enumerate(panels, start=1):
            width, height = WIDTH[kind], HEIGHT[kind]
            if x + width > 24:
                x, y, row_height = 0, y + row_height, 0
            board = board.with_panel(panel(number, queries[name], kind, unit, steps, GridPos(h=height, w=width, x=x, y=y)))
            x, row_height = x + width, max(row_height, height)
        out[uid] = json.dumps(board.build(), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a committed file differs from the rendering")
    args = parser.parse_args()
    with open(FACTS, encoding="utf-8") as handle:
        facts = yaml.safe_load(handle)
    with open(PERFORMANCE, encoding="utf-8") as handle:
        kpis = yaml.safe_load(handle)["acgs_performance_thresholds"]
    rendered = render(facts["acgs_monitoring_queries"], facts["acgs_sla"], kpis)
    stale = []
    for uid, text in sorted(rendered.items()):
        path = os.path.join(OUT, uid + ".json")
        current = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if current == text:
            continue
        stale.append(os.path.relpath(path, ROOT))
        if not args.check:
            os.makedirs(OUT, exist_ok=True)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
    # a dashboard no longer rendered would still be provisioned
    extra = sorted(set(f for f in os.listdir(OUT) if f.endswith(".json")) - set(u + ".json" for u in rendered))
    if args.check and (stale or extra):
        print("stale dashboards (run python3 scripts/grafana_dashboards.py): %s" % ", ".join(stale + extra))
        return 1
    for name in extra:
        os.remove(os.path.join(OUT, name))
    print("%s: %s" % ("checked" if args.check else "wrote", ", ".join(stale) if not args.check and stale else "%d dashboards up to date" % len(rendered)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: acgs_loadtest
author: ACGS Operations Team (@acgs)
version_added: 0.1.0
short_description: A bounded wrk load test against every ACGS service at once, or a stress ramp
description:
  - Runs one C(wrk) per target (service) in parallel, because C(wrk) connects to one address and the services
    listen on one HAProxy port each. Each C(wrk) alternates the service contract's endpoints (O(paths)) and prints
    exact P50, P90, P95, P99 and P99.9 latencies from a Lua C(done) callback.
  - O(mode=load) runs O(slices) consecutive slices of O(duration) seconds each at O(connections) per service, so the
    report has throughput and percentiles over time.
  - O(mode=stress) ramps the offered load in steps of O(duration) seconds. Plain C(wrk) cannot hold a constant
    request rate (that is C(wrk2)), so the load rises by connections per service, from O(stress_start) multiplied
    by O(stress_factor) each step, until a step misses an SLA of O(stress_sla), O(stress_max_connections) is passed
    or the next step would end after O(stress_time_budget) seconds. The highest throughput of a step that met every
    SLA is the result.
  - Meanwhile it samples this host's CPU use (C(/proc/stat), all cores) and peak memory use (C(/proc/meminfo),
    MemTotal - MemAvailable); on an all-in-one host these include C(wrk) itself.
  - Changes nothing. In check mode no load is sent and C(skipped) is true.
options:
  targets:
    description: The services to load, each through HAProxy.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The service's name (the key of its results).
        type: str
        required: true
      url:
        description: Base URL, e.g. C(http://127.0.0.1:8000/).
        type: str
        required: true
  mode:
    description: V(load) (fixed connections, in slices) or V(stress) (a ramp until an SLA breaks).
    type: str
    choices: [load, stress]
    default: load
  connections:
    description: Open connections per service in V(load) mode.
    type: int
    default: 8
  threads:
    description: C(wrk) threads per service (connections are at least this many).
    type: int
    default: 1
  duration:
    description: Seconds of each slice (V(load)) or step (V(stress)).
    type: int
    default: 10
  slices:
    description: Consecutive slices in V(load) mode.
    type: int
    default: 3
  paths:
    description: Request paths each connection cycles through.
    type: list
    elements: str
    default: [/health, /api/v1/compliance/status]
  timeout:
    description: Seconds after which C(wrk) counts a request as timed out (an error).
    type: int
    default: 2
  wrk:
    description: The C(wrk) program.
    type: path
    default: wrk
  stress_start:
    description: Connections per service of the first stress step.
    type: int
    default: 1
  stress_factor:
    description: Each stress step has this many times the connections of the one before (at least one more).
    type: float
    default: 2.0
  stress_max_connections:
    description: No stress step has more connections per service.
    type: int
    default: 256
  stress_time_budget:
    description: Seconds the whole stress ramp may take; no step starts that would end later.
    type: int
    default: 120
  stress_sla:
    description:
      - The SLAs a stress step must meet, KPI name to threshold, measured by C(wrk) and on this host -
        V(p95_ms), V(p99_ms), V(error_rate_percent), V(throughput_rps), V(cpu_percent), V(memory_percent).
    type: dict
    default: {}
notes:
  - Needs C(wrk) on the host that runs it (Debian's C(wrk) package).
  - Latency percentiles of a step are the worst service's; throughput is the sum of the services'.
"""

EXAMPLES = r"""
- name: Ten seconds in two slices against every service through HAProxy
  acgs.platform.acgs_loadtest:
    targets:
      - {name: auth-service, url: "http://127.0.0.1:8000/"}
      - {name: ac-service, url: "http://127.0.0.1:8001/"}
    connections: 8
    duration: 5
    slices: 2

- name: Stress ramp until P95 or the error rate breaks
  acgs.platform.acgs_loadtest:
    targets:
      - {name: auth-service, url: "http://127.0.0.1:8000/"}
      - {name: ac-service, url: "http://127.0.0.1:8001/"}
    mode: stress
    duration: 5
    stress_time_budget: 60
    stress_sla: {p95_ms: 500, error_rate_percent: 1}
"""

RETURN = r"""
skipped:
  description: True in check mode (no load sent).
  type: bool
  returned: always
mode:
  description: The mode run.
  type: str
  returned: always
started_at:
  description: Epoch seconds the load started (null in check mode).
  type: float
  returned: always
ended_at:
  description: Epoch seconds the load ended (null in check mode).
  type: float
  returned: always
steps:
  description:
    - The slices (V(load)) or steps (V(stress)) in order, each with C(start), C(end), C(elapsed_seconds) (of its end
      since the load started), C(connections), C(requests), C(failed), C(throughput_rps), C(error_rate_percent),
      C(p50_ms) C(p90_ms) C(p95_ms) C(p99_ms) C(p999_ms) C(max_ms) (the worst service's) and which service that was,
      C(cpu_percent), C(memory_percent), C(services) (each service's own figures and C(errors) by kind);
      in V(stress) also C(met) and C(broken) (the SLAs missed).
  type: list
  elements: dict
  returned: always
summary:
  description:
    - The whole run - C(requests), C(failed), C(seconds), C(throughput_rps) (requests per wall-clock second),
      C(error_rate_percent), the worst slice's percentiles, peak C(cpu_percent) and C(memory_percent). Empty in
      check mode and in V(stress) mode.
  type: dict
  returned: always
stress:
  description:
    - V(stress) only - C(highest_rate_meeting_sla_rps) and C(at_connections) (null when even the first step
      missed), C(broken_at_connections), C(broken_by), C(sla_broken), C(stopped) (why the ramp ended).
  type: dict
  returned: always
command:
  description: The C(wrk) command line of one service (connections and duration of the first step).
  type: list
  elements: str
  returned: always
"""

import os
import shutil
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.acgs.platform.plugins.module_utils import _performance as perf


def _run(module, p, script):
    steps = []
    started = time.time()
    stress = {}

    def slice_at(connections):
        step = perf.run_slice(p["wrk"], p["targets"], script, p["threads"], connections, p["duration"], p["timeout"])
        step["index"] = len(steps)
        step["elapsed_seconds"] = round(step["end"] - started, 3)
        return step

    if p["mode"] == "load":
        for _i in range(p["slices"]):
            steps.append(slice_at(p["connections"]))
        return started, steps, perf.summarize(steps), stress
    connections = p["stress_start"]
    stopped = "an SLA broke"
    while True:
        step = slice_at(connections)
        step["met"], step["broken"] = perf.step_verdict(step, p["stress_sla"])
        steps.append(step)
        if not step["met"]:
            break
        nxt = perf.next_connections(connections, p["stress_factor"], p["stress_max_connections"])
        if nxt is None:
            stopped = "stress_max_connections (%d) reached" % p["stress_max_connections"]
            break
        # The next step ends after its duration plus wrk's start (the last step's overhead).
        overhead = max(0.0, step["seconds"] - p["duration"])
        if time.time() + p["duration"] + overhead - started > p["stress_time_budget"]:
            stopped = "stress_time_budget (%d s) reached" % p["stress_time_budget"]
            break
        connections = nxt
    stress = perf.stress_result(steps)
    stress["stopped"] = stopped
    return started, steps, {}, stress


def main():
    module = AnsibleModule(
        argument_spec=dict(
            targets=dict(type="list", elements="dict", required=True,
                         options=dict(name=dict(type="str", required=True), url=dict(type="str", required=True))),
            mode=dict(type="str", choices=["load", "stress"], default="load"),
            connections=dict(type="int", default=8),
            threads=dict(type="int", default=1),
            duration=dict(type="int", default=10),
            slices=dict(type="int", default=3),
            paths=dict(type="list", elements="str", default=["/health", "/api/v1/compliance/status"]),
            timeout=dict(type="int", default=2),
            wrk=dict(type="path", default="wrk"),
            stress_start=dict(type="int", default=1),
            stress_factor=dict(type="float", default=2.0),
            stress_max_connections=dict(type="int", default=256),
            stress_time_budget=dict(type="int", default=120),
            stress_sla=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    p = module.params
    for key in ("connections", "threads", "duration", "slices", "timeout", "stress_start", "stress_max_connections", "stress_time_budget"):
        if p[key] < 1:
            module.fail_json(msg="%s must be at least 1, got %d" % (key, p[key]))
    if p["stress_factor"] <= 1:
        module.fail_json(msg="stress_factor must be more than 1, got %s" % p["stress_factor"])
    if not p["targets"]:
        module.fail_json(msg="targets: at least one service is needed")
    for name in p["stress_sla"]:
        if name not in ("p95_ms", "p99_ms", "error_rate_percent", "throughput_rps", "cpu_percent", "memory_percent"):
            module.fail_json(msg="stress_sla: %r is not a KPI a stress step measures" % name)
    if p["mode"] == "stress" and not p["stress_sla"]:
        module.fail_json(msg="stress_sla: stress mode needs at least one SLA to ramp against")
    first = p["stress_start"] if p["mode"] == "stress" else p["connections"]
    command = [p["wrk"], "-t%d" % p["threads"], "-c%d" % max(first, p["threads"]), "-d%ds" % p["duration"],
               "--timeout", "%ds" % p["timeout"], "-s", "SCRIPT", p["targets"][0]["url"]]
    result = dict(changed=False, skipped=False, mode=p["mode"], started_at=None, ended_at=None,
                  steps=[], summary={}, stress={}, command=command)
    try:
        script_text = perf.lua_script(p["paths"])
    except perf.PerformanceError as exc:
        module.fail_json(msg=to_native(exc), **result)
    if module.check_mode:
        result["skipped"] = True
        module.exit_json(**result)
    wrk = p["wrk"] if os.path.sep in p["wrk"] else module.get_bin_path(p["wrk"])
    if not wrk:
        module.fail_json(msg="wrk: %s is not installed (Debian's wrk package)" % p["wrk"], **result)
    p["wrk"] = wrk
    workdir = tempfile.mkdtemp(prefix="acgs_loadtest.")
    try:
        script = os.path.join(workdir, "acgs.lua")
        with open(script, "w") as handle:
            handle.write(script_text)
        started, steps, summary, stress = _run(module, p, script)
    except perf.PerformanceError as exc:
        module.fail_json(msg=to_native(exc), **result)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result.update(started_at=round(started, 3), ended_at=steps[-1]["end"], steps=steps, summary=summary, stress=stress)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

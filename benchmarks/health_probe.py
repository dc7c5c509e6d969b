# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark of acgs_health against its baselines, measured in the same run.

Serves 7 ACGS services' /health, each answering after 200 ms of injected latency,
with the fault servers the probe tests use (JsonServer of
tests/unit/plugins/test_support/fault_servers.py, on free loopback ports), then,
RUNS times each:
  (a) one acgs_health task over the 7,
  (b) ansible.builtin.uri in a loop over the same 7,
  (c) the runbook's curl loop over the same 7 ports
      (for port in ...; do curl -s http://localhost:$port/health | jq -r '.status // "ERROR"'; done),
  (d) one acgs_health task over 100 endpoints (100 services spread over the 7 servers).
(a), (b) and (d) are timed inside one ansible-playbook run (benchmarks/health_probe.yml)
between controller timestamps, so Ansible's start-up is in none of them; (c) is timed
around the shell loop. Prints the medians and the ratios against the targets
(a/b <= 0.35, a/c <= 0.5, d/a <= 2) and exits 1 when a target is missed.

Environment: BENCH_RUNS (5), BENCH_LATENCY_MS (200), BENCH_ENDPOINTS (100).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAULT_SERVERS = os.path.join(ROOT, "tests", "unit", "plugins", "test_support", "fault_servers.py")
PLAYBOOK = os.path.join(ROOT, "benchmarks", "health_probe.yml")
NAMES = ("auth-service", "ac-service", "integrity-service", "fv-service", "gs-service", "pgc-service", "ec-service")
TARGETS = (("acgs_health / uri loop", "a_b", 0.35), ("acgs_health / curl loop", "a_c", 0.5),
           ("100 endpoints / 7 endpoints", "d_a", 2.0))


def load_fault_servers():
    """tests/unit/plugins/test_support/fault_servers.py, the probe tests' servers, by path."""
    spec = importlib.util.spec_from_file_location("acgs_fault_servers", FAULT_SERVERS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def start_servers(stack, latency_ms):
    """One server per service answering /health after ``latency_ms``; their ports."""
    faults = load_fault_servers()
    servers = [stack.enter_context(faults.JsonServer({"/health": (200, faults.health_body(name, "0.1.0"), {}, latency_ms / 1000.0)}))
               for name in NAMES]
    return [server.port for server in servers]


def curl_loop(ports):
    script = ("for port in %s; do echo \"Port $port: $(curl -s http://localhost:$port/health | jq -r '.status // \"ERROR\"')\"; done"
              % " ".join(str(p) for p in ports))
    start = time.monotonic()
    out = subprocess.run(["bash", "-c", script], check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout
    wall = time.monotonic() - start
    if out.count(": healthy") != len(ports):
        raise SystemExit("health_probe: the curl loop did not see %d healthy services:\n%s" % (len(ports), out))
    return wall


def ansible_env():
    env = dict(os.environ)
    env.setdefault("ANSIBLE_CONFIG", os.path.join(ROOT, "ansible.cfg"))
    paths = [os.path.join(ROOT, "build", "collections")]
    if env.get("ANSIBLE_COLLECTIONS_PATH"):
        paths.insert(0, env["ANSIBLE_COLLECTIONS_PATH"])
    env["ANSIBLE_COLLECTIONS_PATH"] = ":".join(paths)
    return env


def playbook_run(workdir, ports, endpoints):
    services = [{"name": name, "url": "http://127.0.0.1:%d" % port} for name, port in zip(NAMES, ports)]
    hundred = [{"name": "endpoint-%03d" % i, "url": "http://127.0.0.1:%d" % ports[i % len(ports)]} for i in range(endpoints)]
    out = os.path.join(workdir, "timings.json")
    extra = os.path.join(workdir, "vars.json")
    with open(extra, "w") as handle:
        json.dump({"bench_services": services, "bench_hundred": hundred, "bench_out": out}, handle)
    playbook = shutil.which("ansible-playbook") or os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    proc = subprocess.run([playbook, "-i", "localhost,", PLAYBOOK, "-e", "@" + extra], env=ansible_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    if proc.returncode != 0:
        raise SystemExit("health_probe: the benchmark playbook failed:\n%s" % proc.stdout[-4000:])
    with open(out) as handle:
        timings = json.load(handle)
    if int(timings["healthy_7"]) != len(ports) or int(timings["healthy_100"]) != endpoints:
        raise SystemExit("health_probe: not every endpoint was healthy: %s" % timings)
    return dict((k, float(v)) for k, v in timings.items())


def measure(workdir, ports, runs, endpoints):
    """RUNS samples of (a)-(d) and their ratios."""
    samples = []
    for run in range(runs):
        timing = playbook_run(workdir, ports, endpoints)
        timing["curl_loop_7"] = curl_loop(ports)
        timing["a_b"] = timing["acgs_health_7"] / timing["uri_loop_7"]
        timing["a_c"] = timing["acgs_health_7"] / timing["curl_loop_7"]
        timing["d_a"] = timing["acgs_health_100"] / timing["acgs_health_7"]
        samples.append(timing)
        print("run %d: acgs_health(7) %.3f s, uri loop %.3f s, curl loop %.3f s, acgs_health(%d) %.3f s"
              % (run + 1, timing["acgs_health_7"], timing["uri_loop_7"], timing["curl_loop_7"], endpoints,
                 timing["acgs_health_100"]))
        sys.stdout.flush()
    return samples


def main():
    runs = int(os.environ.get("BENCH_RUNS", "5"))
    latency = int(os.environ.get("BENCH_LATENCY_MS", "200"))
    endpoints = int(os.environ.get("BENCH_ENDPOINTS", "100"))
    for tool in ("curl", "jq", "bash"):
        if not shutil.which(tool):
            raise SystemExit("health_probe: %s is not installed" % tool)
    workdir = tempfile.mkdtemp(prefix="acgs-health-bench-")
    try:
        with contextlib.ExitStack() as stack:
            ports = start_servers(stack, latency)
            samples = measure(workdir, ports, runs, endpoints)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    def median(key):
        return statistics.median(s[key] for s in samples)

    print("")
    print("7 services with %d ms latency, %d runs, medians (task wall time, seconds):" % (latency, runs))
    print("  (a) acgs_health, one task, 7 services   %7.3f   (module's own elapsed %4d ms)"
          % (median("acgs_health_7"), median("module_elapsed_ms_7")))
    print("  (b) ansible.builtin.uri loop, 7         %7.3f" % median("uri_loop_7"))
    print("  (c) runbook curl | jq loop, 7           %7.3f" % median("curl_loop_7"))
    print("  (d) acgs_health, one task, %3d          %7.3f   (module's own elapsed %4d ms)"
          % (endpoints, median("acgs_health_100"), median("module_elapsed_ms_100")))
    print("")
    missed = 0
    for label, key, target in TARGETS:
        value = median(key)
        ok = value <= target
        missed += 0 if ok else 1
        print("  %-30s %5.2f  (target <= %.2f)  %s" % (label, value, target, "ok" if ok else "MISSED"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Blue-green deploy and rollback against a naive in-place restart, under load (see deploy.sh)."""

from __future__ import absolute_import, division, print_function

import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOADGEN = os.path.join(ROOT, "tests", "unit", "plugins", "test_support", "loadgen.py")
STATE = "/var/lib/acgs-deploy/state.json"
RECORDS = "/var/lib/acgs-results/deployments"
sys.path.insert(0, os.path.join(ROOT, "build", "collections"))
from ansible_collections.acgs.platform.plugins.module_utils.catalog import build_catalog  # noqa: E402
from ansible_collections.acgs.platform.plugins.module_utils._haproxy_runtime import HaproxyRuntime  # noqa: E402
from ansible_collections.acgs.platform.plugins.module_utils._traffic import is_up  # noqa: E402

CATALOG = build_catalog()
RATE = int(os.environ.get("BENCH_RATE", "30"))


def playbook(*args):
    cmd = ["ansible-playbook", "-i", os.path.join(ROOT, "inventories", "local")] + list(args)
    run = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    if run.returncode != 0:
        sys.exit("benchmark: %s failed:\n%s" % (" ".join(cmd), run.stdout[-3000:]))
    return run.stdout


class Load(object):
    """The loadgen over the 7 public ports for the length of a with-block; counts in .counts."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="acgs-bench-")
        urls = ["--url=http://127.0.0.1:%d/api/v1/compliance/status" % svc["port"] for svc in CATALOG]
        self.proc = subprocess.Popen([sys.executable, LOADGEN] + urls + [
            "--rate", str(RATE), "--duration", "1200", "--stop-file", self.dir + "/stop", "--out", self.dir + "/out.json"])
        return self

    def __exit__(self, *exc):
        open(self.dir + "/stop", "w").close()
        self.proc.wait(60)
        with open(self.dir + "/out.json") as handle:
            self.counts = json.load(handle)


def active_programs():
    with open(STATE) as handle:
        services = json.load(handle).get("services", {})
    return ["acgs-%s-%s" % (svc["name"], services.get(svc["name"], {}).get("active", "blue")) for svc in CATALOG]


def wait_up(programs, timeout=60):
    """Until HAProxy's checks see every restarted slot UP again: the restart is over for the users then."""
    runtime = HaproxyRuntime("/run/haproxy/admin.sock")
    servers = [("be_" + name.split("-", 1)[1].rsplit("-", 1)[0], name.split("-", 1)[1]) for name in programs]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        rows = runtime.show_stat()
        if all(is_up(rows.get(key)) for key in servers):
            return
        time.sleep(0.1)
    sys.exit("benchmark: HAProxy does not see %s UP after %d s" % (servers, timeout))


def record(stdout, pattern):
    found = re.search(pattern, stdout)
    if not found:
        sys.exit("benchmark: no record id in the output:\n" + stdout[-2000:])
    with open(os.path.join(RECORDS, found.group(1) + ".json")) as handle:
        return json.load(handle)


def main():
    # A version of its own each run: the new slots are really installed and started from this
    # checkout's code (a release already running in the idle slot would be reused as it is).
    version = "0.2.0-bench%d" % time.time()
    playbook(os.path.join("playbooks", "build_release.yml"), "-e", "acgs_release=" + version)
    playbook(os.path.join("playbooks", "deploy.yml"), "-e", "acgs_release=0.1.0", "-e",
             '{"acgs_blue_green_steps": [100], "acgs_deploy_skip_gates": ["rollback_plan", "migrations"]}')

    with Load() as naive:
        started = time.monotonic()
        programs = active_programs()
        subprocess.check_call(["supervisorctl", "restart"] + programs, stdout=subprocess.DEVNULL)
        wait_up(programs)
        naive_seconds = time.monotonic() - started
    with Load() as deploy:
        out = playbook(os.path.join("playbooks", "deploy.yml"), "-e", "acgs_release=" + version, "-e", "acgs_blue_green_step_seconds=1")
    deployed = record(out, r"(deploy-[0-9]+) promoted")
    with Load() as back:
        out = playbook(os.path.join("playbooks", "rollback.yml"), "-e", "acgs_deployment_id=" + deployed["deployment_id"],
                       "-e", "acgs_blue_green_step_seconds=1")
    rolled = record(out, r"(rollback-[0-9]+) rolled_back")

    traffic = deployed["seconds"] - deployed["gates_seconds"]
    rows = [("naive in-place restart (7 services, until UP)", naive_seconds, naive.counts),
            ("blue-green deploy 0.1.0 -> %s" % version, deployed["seconds"], deploy.counts),
            ("rollback by id", rolled["seconds"], back.counts)]
    print("%-48s %9s %9s %9s %8s" % ("procedure", "seconds", "requests", "failed", "req/s"))
    for name, seconds, counts in rows:
        print("%-48s %9.1f %9d %9d %8.0f" % (name, seconds, counts["sent"], counts["failed"], counts["rate"]))
    print("blue-green: checklist (gates) %.1f s, traffic part (end of gates to all traffic on %s) %.1f s"
          % (deployed["gates_seconds"], version, traffic))
    print("ratio traffic part / naive restart: %.2f (target <= 2.0)" % (traffic / naive_seconds))
    failed = deploy.counts["failed"] + back.counts["failed"]
    print("failed requests during deploy and rollback: %d (target 0)" % failed)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

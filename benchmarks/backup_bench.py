# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Driver of benchmarks/backup.sh (which prepares the database; see there).

A = the acgs_backup module, run directly as Ansible runs it on the managed host
(python -m ansible_collections.acgs.platform.plugins.modules.acgs_backup ARGS),
state=present, postgresql component, custom format: the one streaming pass with
sha256, sizes and the atomic manifest. B = pg_dump -Fc -f FILE. Runs alternate
A B A B; wall time from a monotonic clock around each process; peak RSS from
wait4() of each process (the largest of it and the children it waited for).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
PORT = int(os.environ["BENCH_PG_PORT"])
WORK = os.environ["BENCH_DIR"]
PASSWORD = os.environ["BENCH_PASSWORD"]
PG = {"host": "127.0.0.1", "port": PORT, "user": "bench", "password": PASSWORD}
RATIO_TARGET = 1.10
RSS_TARGET_MB = 200


def collections_tree():
    """A path holding ansible_collections/acgs/platform -> this checkout."""
    tree = os.path.join(WORK, "collections")
    link = os.path.join(tree, "ansible_collections", "acgs", "platform")
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(ROOT, link)
    return tree


def run(argv, env=None):
    """(wall seconds, peak RSS MB, returncode, output tail)."""
    out = tempfile.TemporaryFile()
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    dummy, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    tail = out.read()[-4000:].decode("utf-8", "replace")
    return wall, usage.ru_maxrss / 1024.0, proc.returncode, tail


def module(args, env):
    path = os.path.join(WORK, "args.json")
    with open(path, "w") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
    os.chmod(path, 0o600)
    wall, rss, code, out = run([sys.executable, "-m", "ansible_collections.acgs.platform.plugins.modules.acgs_backup", path], env)
    result = json.loads(out[out.index("{"):]) if "{" in out else {"msg": out}
    if code != 0 or result.get("failed"):
        raise SystemExit("acgs_backup failed: %s" % result.get("msg"))
    return wall, rss, result


def median(values):
    return statistics.median(values)


def main():
    env = dict(os.environ, PYTHONPATH=collections_tree())
    store = os.path.join(WORK, "store")
    dump = os.path.join(WORK, "baseline.dump")
    a_wall, a_rss, b_wall, b_rss, ratios = [], [], [], [], []
    result = None
    print("== %d runs, alternating acgs_backup (A) and pg_dump -Fc (B)" % RUNS)
    for index in range(RUNS):
        shutil.rmtree(store, ignore_errors=True)
        wall, rss, result = module({"backup_dir": store, "state": "present", "verify": False,
                                    "postgresql": dict(PG, databases=["bench"])}, env)
        a_wall.append(wall)
        a_rss.append(rss)
        if os.path.exists(dump):
            os.unlink(dump)
        wall_b, rss_b, code, out = run(["pg_dump", "-h", "127.0.0.1", "-p", str(PORT), "-U", "bench", "-Fc", "-f", dump, "bench"],
                                       dict(os.environ, PGPASSWORD=PASSWORD))
        if code != 0:
            raise SystemExit("pg_dump failed: %s" % out)
        b_wall.append(wall_b)
        b_rss.append(rss_b)
        ratios.append(wall / wall_b)
        print("  run %d: A %.2f s (peak %.0f MB)   B %.2f s   A/B %.3f" % (index + 1, wall, rss, wall_b, wall / wall_b))
    size = result["manifest"]["total_size"]
    print("dump size: acgs_backup %.0f MB, pg_dump %.0f MB" % (size / 1e6, os.path.getsize(dump) / 1e6))
    print("acgs_backup  median %.2f s (min %.2f, max %.2f), peak RSS %.0f MB" % (median(a_wall), min(a_wall), max(a_wall), max(a_rss)))
    print("pg_dump -Fc  median %.2f s (min %.2f, max %.2f), peak RSS %.0f MB" % (median(b_wall), min(b_wall), max(b_wall), max(b_rss)))
    ratio = median(ratios)
    print("RATIO acgs_backup / pg_dump = %.3f (median of pairs; target <= %.2f)" % (ratio, RATIO_TARGET))

    wall_v, rss_v, verified = module({"backup_dir": store, "state": "verified"}, env)
    print("verify (sha256 re-read + pg_restore --list): %.2f s, peak RSS %.0f MB, ok=%s" % (wall_v, rss_v, verified["verification"]["ok"]))

    wall_r, rss_r, restored = module({"backup_dir": store, "state": "restored", "force": True,
                                      "postgresql": PG, "restore": {"databases": {"bench": "bench_restore"}, "jobs": 2}}, env)
    rows = restored["restored"]["postgresql"]["bench"]["total_rows"]
    env_pg = dict(os.environ, PGPASSWORD=PASSWORD)
    subprocess.check_call(["psql", "-qAt", "-h", "127.0.0.1", "-p", str(PORT), "-U", "bench", "-d", "postgres",
                           "-c", "DROP DATABASE IF EXISTS bench_restore_b WITH (FORCE)", "-c", "CREATE DATABASE bench_restore_b"], env=env_pg)
    wall_p, rss_p, code, out = run(["pg_restore", "-h", "127.0.0.1", "-p", str(PORT), "-U", "bench", "-j", "2", "-d", "bench_restore_b", dump], env_pg)
    if code != 0:
        raise SystemExit("pg_restore failed: %s" % out)
    print("restore: acgs_backup %.2f s (verify + pg_restore -j 2 + row counts, %d rows, peak RSS %.0f MB)   pg_restore -j 2 %.2f s" % (
        wall_r, rows, rss_r, wall_p))
    peak = max(a_rss + [rss_v, rss_r])
    print("PEAK RSS of the module: %.0f MB (target < %d MB)" % (peak, RSS_TARGET_MB))
    return 0 if ratio <= RATIO_TARGET and peak < RSS_TARGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())

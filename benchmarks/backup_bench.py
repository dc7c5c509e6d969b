# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Driver of benchmarks/backup.sh (which prepares the database; see there).

Backup, runs alternating A B C A B C:
  A = the acgs_backup module, run directly as Ansible runs it on the managed host
      (python -m ansible_collections.acgs.platform.plugins.modules.acgs_backup ARGS),
      state=present, postgresql component, custom format, its defaults (zstd): the one
      streaming pass with sha256, sizes, fsync and the atomic manifest;
  B = pg_dump -Fc -f FILE (zlib in pg_dump, as the runbook did);
  C = pg_dump -Fc -Z0 | zstd -T0 -o FILE (the obvious hand-made pipeline, zstd's default level 3).
Restore, runs alternating R P:
  R = acgs_backup state=restored of A's set into a fresh database: verification (sha256 of
      every file, pg_restore --list) + restore with its default jobs + row counts;
  P = pg_restore -j 2 -d DB of B's file into a fresh database.
Wall time from a monotonic clock around each process; peak RSS from wait4() of each
process (the largest of it and the children it waited for). Ratios are medians of the
per-run ratios; each target prints PASS or MISS and the exit status is 1 on any MISS.
BENCH_RESTORE_ONLY=1 repeats only the restore runs, from the previous run's set and file.
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
PG_ENV = dict(os.environ, PGPASSWORD=PASSWORD)
CONN = ["-h", "127.0.0.1", "-p", str(PORT), "-U", "bench"]
TARGETS = {
    "backup_vs_pg_dump": 0.30,
    "backup_vs_pipeline": 1.10,
    "restore_vs_pg_restore": 1.05,
    "rss_mb": 200,
}


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


def checked(argv, env=None):
    wall, rss, code, out = run(argv, env)
    if code != 0:
        raise SystemExit("%s failed: %s" % (argv[0], out))
    return wall, rss


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


def fresh_database(name):
    subprocess.check_call(["psql", "-qAt"] + CONN + ["-d", "postgres", "-c", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name,
                                                     "-c", "CREATE DATABASE %s" % name], env=PG_ENV)


def unlink(path):
    if os.path.exists(path):
        os.unlink(path)


def summary(name, walls, rsses=None):
    text = "%-34s median %6.2f s (min %.2f, max %.2f)" % (name, statistics.median(walls), min(walls), max(walls))
    return text + (", peak RSS %.0f MB" % max(rsses) if rsses else "")


def verdict(label, value, target, fmt="%.3f", lower=True):
    ok = value <= target if lower else value < target
    line = "%-58s " + fmt + "  (target %s " + fmt + ")  %s"
    print(line % (label, value, "<=" if lower else "<", target, "PASS" if ok else "MISS"))
    return ok


def backups(env, store, dump, piped):
    a_wall, a_rss, b_wall, c_wall, ab, ac = [], [], [], [], [], []
    result = None
    print("== backup: %d runs, alternating acgs_backup (A), pg_dump -Fc (B), pg_dump -Fc -Z0 | zstd -T0 (C)" % RUNS)
    for index in range(RUNS):
        shutil.rmtree(store, ignore_errors=True)
        wall, rss, result = module({"backup_dir": store, "state": "present", "verify": False,
                                    "postgresql": dict(PG, databases=["bench"])}, env)
        a_wall.append(wall)
        a_rss.append(rss)
        unlink(dump)
        b_wall.append(checked(["pg_dump"] + CONN + ["-Fc", "-f", dump, "bench"], PG_ENV)[0])
        unlink(piped)
        c_wall.append(checked(["bash", "-c", 'set -o pipefail; pg_dump "$@" -Fc -Z0 bench | zstd -q -T0 -o %s' % piped,
                               "pipeline"] + CONN, PG_ENV)[0])
        ab.append(wall / b_wall[-1])
        ac.append(wall / c_wall[-1])
        print("  run %d: A %.2f s (peak %.0f MB)   B %.2f s   C %.2f s   A/B %.3f   A/C %.3f" % (
            index + 1, wall, rss, b_wall[-1], c_wall[-1], ab[-1], ac[-1]))
    manifest = result["manifest"]
    sizes = (manifest["total_size"], os.path.getsize(dump), os.path.getsize(piped))
    print("compressor of A: %s level %s, %s threads; pg_dump format custom" % (
        manifest["compression"], manifest.get("compression_level"), manifest.get("compression_threads")))
    print("sizes: A acgs_backup %.1f MB   B pg_dump -Fc %.1f MB   C pipeline %.1f MB   A/B %.3f" % (
        sizes[0] / 1e6, sizes[1] / 1e6, sizes[2] / 1e6, sizes[0] / float(sizes[1])))
    print(summary("A acgs_backup", a_wall, a_rss))
    print(summary("B pg_dump -Fc", b_wall))
    print(summary("C pg_dump -Fc -Z0 | zstd -T0", c_wall))
    return statistics.median(ab), statistics.median(ac), sizes, a_rss


def restores(env, store, dump):
    r_wall, r_rss, p_wall, rp = [], [], [], []
    rows = None
    print("== restore: %d runs, alternating acgs_backup state=restored (R: verify + pg_restore + row counts) "
          "and pg_restore -j 2 of pg_dump's file (P)" % RUNS)
    for index in range(RUNS):
        fresh_database("bench_restore")
        wall, rss, restored = module({"backup_dir": store, "state": "restored", "force": True, "postgresql": PG,
                                      "restore": {"databases": {"bench": "bench_restore"}}}, env)
        rows = restored["restored"]["postgresql"]["bench"]["total_rows"]
        r_wall.append(wall)
        r_rss.append(rss)
        fresh_database("bench_restore_b")
        p_wall.append(checked(["pg_restore"] + CONN + ["-j", "2", "-d", "bench_restore_b", dump], PG_ENV)[0])
        rp.append(wall / p_wall[-1])
        print("  run %d: R %.2f s (peak %.0f MB, %d rows)   P %.2f s   R/P %.3f" % (index + 1, wall, rss, rows, p_wall[-1], rp[-1]))
    print(summary("R acgs_backup restored", r_wall, r_rss))
    print(summary("P pg_restore -j 2", p_wall))
    return statistics.median(rp), r_rss


def main():
    env = dict(os.environ, PYTHONPATH=collections_tree())
    store = os.path.join(WORK, "store")
    dump = os.path.join(WORK, "baseline.dump")
    piped = os.path.join(WORK, "pipeline.dump.zst")
    if os.environ.get("BENCH_RESTORE_ONLY") == "1":
        # iterate on restore: the set and pg_dump's file of the previous full run
        rp, r_rss = restores(env, store, dump)
        return 0 if verdict("RATIO restore acgs_backup / pg_restore -j 2", rp, TARGETS["restore_vs_pg_restore"]) else 1
    ab, ac, sizes, a_rss = backups(env, store, dump, piped)
    wall_v, rss_v, verified = module({"backup_dir": store, "state": "verified"}, env)
    print("verify (sha256 re-read + zstd -d | pg_restore --list): %.2f s, peak RSS %.0f MB, ok=%s" % (
        wall_v, rss_v, verified["verification"]["ok"]))
    rp, r_rss = restores(env, store, dump)
    peak = max(a_rss + r_rss + [rss_v])
    print("== targets")
    results = [
        verdict("RATIO backup acgs_backup / pg_dump -Fc", ab, TARGETS["backup_vs_pg_dump"]),
        verdict("SIZE  acgs_backup set / pg_dump -Fc file", sizes[0] / float(sizes[1]), 1.0),
        verdict("RATIO backup acgs_backup / pg_dump -Z0 | zstd -T0", ac, TARGETS["backup_vs_pipeline"]),
        verdict("RATIO restore acgs_backup / pg_restore -j 2", rp, TARGETS["restore_vs_pg_restore"]),
        verdict("PEAK RSS of the module (MB)", peak, TARGETS["rss_mb"], fmt="%.0f", lower=False),
    ]
    return 0 if all(results) and verified["verification"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the backup job a database host runs on its own schedule, without the controller.

The backup role installs it as ``acgs-backup`` (one zip of this collection's code and
ansible-core's module_utils, plus the module's arguments in a 0600 file): it runs
acgs_backup state=present once and says how that went where operators and Prometheus
look - the exit status, a syslog line (the journal under systemd), and node_exporter's
textfile collector, whose ``acgs_backup_last_*`` gauges the prometheus role alerts on
(a failed run, or no success for too long). Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import subprocess
import sys
import syslog
import time

from ansible_collections.acgs.platform.plugins.module_utils._libraries import load_library

MODULE = "ansible_collections.acgs.platform.plugins.modules.acgs_backup"
LAST_SUCCESS = "acgs_backup_last_success_timestamp_seconds"


def outcome(returncode, output):
    """(ok, result, message) of one run of the module: ok only for a set written and verified."""
    text = output.strip()
    result = None
    if "{" in text:
        try:
            result = json.loads(text[text.index("{"):])
        except ValueError:
            result = None
    if not isinstance(result, dict):
        return False, {}, "acgs_backup exited with %s and printed no result: %s" % (returncode, text[-500:] or "no output")
    if returncode != 0 or result.get("failed"):
        return False, result, "backup failed: %s" % (result.get("msg") or "acgs_backup exited with %s" % returncode)
    verification = result.get("verification") or {}
    if not verification.get("ok"):
        return False, result, "backup set %s was written but not verified: %s" % (
            result.get("backup_id"), verification.get("summary") or "no verification")
    return True, result, "backup set %s written and verified: %s bytes in %s s" % (
        result.get("backup_id"), (result.get("manifest") or {}).get("total_size"), result.get("duration_seconds"))


def previous_success(path):
    """The last-success time the textfile already holds, or None."""
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith(LAST_SUCCESS + " "):
                    return float(line.split()[1])
    except (IOError, OSError, ValueError, IndexError):
        return None
    return None


def write_metrics(path, ok, ended, duration, size, last_success):
    """The run's gauges, written atomically (prometheus_client writes a temporary file, then renames)."""
    prometheus_client = load_library("prometheus_client")
    if prometheus_client is None:
        raise RuntimeError("the Python library prometheus_client is missing (Debian: python3-prometheus-client)")
    registry = prometheus_client.CollectorRegistry()
    gauges = [
        ("acgs_backup_last_run_timestamp_seconds", "When the last scheduled backup run ended.", ended),
        ("acgs_backup_last_run_success", "1 if the last scheduled backup run wrote and verified a set, else 0.", 1 if ok else 0),
        ("acgs_backup_last_duration_seconds", "Seconds the last scheduled backup run took.", duration),
        ("acgs_backup_last_size_bytes", "Bytes of the set the last successful run wrote (0 if it failed).", size),
    ]
    if last_success is not None:
        gauges.append((LAST_SUCCESS, "When a scheduled backup last wrote and verified a set.", last_success))
    for name, doc, value in gauges:
        prometheus_client.Gauge(name, doc, registry=registry).set(value)
    prometheus_client.write_to_textfile(path, registry)


def log(ok, message):
    """A syslog line (the journal under systemd); silently nothing where no syslog listens."""
    syslog.openlog("acgs-backup", syslog.LOG_PID, syslog.LOG_DAEMON)
    syslog.syslog(syslog.LOG_INFO if ok else syslog.LOG_ERR, message)
    syslog.closelog()


def main(argv, library, args_file, metrics_file, python=sys.executable):
    """acgs-backup [--args FILE] [--metrics FILE]: 0 when a set was written and verified, 1 otherwise."""
    parser = argparse.ArgumentParser(prog="acgs-backup", description="Take one verified ACGS backup set, without the "
                                     "controller; report it in syslog and in node_exporter's textfile collector.")
    parser.add_argument("--args", default=args_file, help="the acgs_backup arguments (JSON, as the backup role wrote them)")
    parser.add_argument("--metrics", default=metrics_file, help="the .prom file node_exporter's textfile collector reads")
    opts = parser.parse_args(argv)
    started = time.time()
    env = dict(os.environ, PYTHONPATH=library)
    ok, result = False, {}
    try:
        with open(opts.args) as handle:
            json.load(handle)["ANSIBLE_MODULE_ARGS"]
    except (IOError, OSError, ValueError, KeyError, TypeError) as exc:
        message = "backup failed: the job's arguments %s are unreadable (%s); the backup role's deploy action writes them" % (
            opts.args, exc)
    else:
        try:
            proc = subprocess.Popen([python, "-m", MODULE, opts.args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
            output = proc.communicate()[0].decode("utf-8", "replace")
            ok, result, message = outcome(proc.returncode, output)
        except OSError as exc:
            message = "backup failed: cannot run %s: %s" % (python, exc)
    ended = time.time()
    size = ((result.get("manifest") or {}).get("total_size") or 0) if ok else 0
    try:
        write_metrics(opts.metrics, ok, ended, round(ended - started, 3), size, ended if ok else previous_success(opts.metrics))
    except (RuntimeError, IOError, OSError) as exc:
        ok, message = False, "%s; and the metrics were not written to %s: %s" % (message, opts.metrics, exc)
    log(ok, message)
    (sys.stdout if ok else sys.stderr).write("acgs-backup: %s\n" % message)
    return 0 if ok else 1

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the Level 1 remediation receiver's I/O (roles/remediator runs it as acgs-remediation).

An HTTP server on the loopback (the standard library's ThreadingHTTPServer) takes Alertmanager's
webhook POSTs; the decisions come from _remediation. A restart goes through supervisord, the
services' process manager, with the acgs_shutdown module's code (_shutdown, _supervisor): the
program's stop signal (SIGTERM), SIGKILL after ``grace_seconds`` (a SIGSTOP'd process ignores
SIGTERM), then supervisord starts the program again; the instance must answer /health with the
constitutional hash within ``health_timeout`` seconds, or the restart failed. GET /health answers
whether the receiver runs and is enabled. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys
import threading
import time

try:
    from http.client import HTTPConnection
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
except ImportError:  # Python 2 (never runs it; kept importable for sanity)
    BaseHTTPRequestHandler = object
    HTTPConnection = ThreadingHTTPServer = None

from ansible_collections.acgs.platform.plugins.module_utils import _remediation as logic
from ansible_collections.acgs.platform.plugins.module_utils import _shutdown as shutdown
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.plugins.module_utils._supervisor import STOPPED_STATES, Supervisor

# How long one /health probe may take: a hung process accepts (the kernel does) and never answers.
PROBE_TIMEOUT = 2.0
REAP_WAIT = 5.0


def probe(host, port, expected_hash, timeout=PROBE_TIMEOUT):
    """Whether http://host:port/health answers healthy with the hash (any failure: False)."""
    conn = HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", "/health")
        response = conn.getresponse()
        return logic.healthy(response.status, response.read(), expected_hash)
    except Exception:  # refused, timeout, reset: not healthy  # pylint: disable=broad-except
        return False
    finally:
        conn.close()


class Remediator(object):
    """Decides on each alert, restarts in a thread per service, writes the audit log."""

    def __init__(self, config, rpc=None, clock=time.time):
        self.config = config
        self.rpc = rpc or Supervisor(config["supervisor_socket"])
        self.clock = clock
        self.lock = threading.Lock()
        self.busy = set()
        self.history = {}
        if os.path.exists(config["audit_log"]):
            with open(config["audit_log"]) as handle:
                self.history = logic.history_from_audit(handle, clock())

    def audit(self, decision, alert, reason, **extra):
        record = logic.audit_record(decision, alert, reason, now=self.clock(), **extra)
        with self.lock:
            with open(self.config["audit_log"], "a") as handle:
                handle.write(logic.audit_line(record))
        sys.stdout.write(logic.audit_line(record))
        sys.stdout.flush()
        return record

    def handle(self, alerts):
        """Decide on every alert of a payload; restarts start in the background. The decisions."""
        out = []
        for alert in alerts:
            with self.lock:
                decision, reason = logic.decide(alert, self.config, self.history, self.busy, self.clock())
                if decision == "restart":
                    self.busy.add(alert["service"])
            if decision == "restart":
                thread = threading.Thread(target=self.restart, args=(alert,))
                thread.daemon = True
                thread.start()
            else:
                self.audit(decision, alert, reason)
            out.append({"service": alert["service"], "decision": decision})
        return out

    def restart(self, alert):
        service, program = alert["service"], logic.program_name(self.config["program_prefix"], alert["service"], alert["slot"])
        host, port = logic.instance_address(alert["instance"])
        started = time.monotonic()
        extra = {"program": program}
        try:
            info = self.rpc.process_info(program)
            extra["old_pid"] = info["pid"]
            if info["statename"] == "STOPPED":
                self.audit("skipped: stopped on purpose", alert,
                           "%s is STOPPED (an operator or a lifecycle action stopped it)" % program, **extra)
                return
            if probe(host, port, self.config["constitutional_hash"]):
                self.audit("skipped: healthy", alert, "%s answers /health again" % program, **extra)
                return
            with self.lock:
                self.history.setdefault(service, []).append(self.clock())
            if info["pid"] and info["statename"] not in STOPPED_STATES:
                timeout = shutdown.effective_timeout(self.config["grace_seconds"], self.rpc.stopwaitsecs().get(program))
                results = shutdown.stop_all([{"program": program, "pid": info["pid"], "timeout": timeout}],
                                            self.rpc.stop, self._exitstatus)[0]
                extra.update(stopped=results[0]["how"], stop_seconds=results[0]["seconds"],
                             state_before=results[0]["state_before"])
                if results[0]["how"].startswith("survived"):
                    raise OperatorError("%s pid %d %s" % (program, info["pid"], results[0]["how"]))
            self.rpc.start(program)
            extra["new_pid"] = self.rpc.process_info(program)["pid"]
            deadline = time.monotonic() + float(self.config["health_timeout"])
            while not probe(host, port, self.config["constitutional_hash"]):
                if time.monotonic() >= deadline:
                    raise OperatorError("%s did not answer /health with the constitutional hash within %ss" % (
                        program, self.config["health_timeout"]))
                time.sleep(0.2)
            extra["seconds"] = round(time.monotonic() - started, 3)
            self.audit("restarted", alert, "%s replaced: pid %s -> %s, /health healthy with the hash" % (
                program, extra["old_pid"], extra["new_pid"]), **extra)
        except Exception as err:  # every failure is audited  # pylint: disable=broad-except
            extra["seconds"] = round(time.monotonic() - started, 3)
            self.audit("failed", alert, str(err), **extra)
        finally:
            with self.lock:
                self.busy.discard(service)

    def _exitstatus(self, program, pid):
        deadline = time.monotonic() + REAP_WAIT
        while True:
            info = self.rpc.process_info(program)
            if info["statename"] in STOPPED_STATES or time.monotonic() >= deadline:
                return info["exitstatus"] if info["statename"] in STOPPED_STATES else None
            time.sleep(0.05)


def handler_for(remediator):
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status, data):
            body = json.dumps(data, sort_keys=True).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/health":
                self._reply(200, {"status": "healthy", "enabled": bool(remediator.config["enabled"])})
            else:
                self._reply(404, {"error": "POST Alertmanager webhooks; GET /health"})

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            try:
                alerts = logic.parse_payload(self.rfile.read(min(length, 1 << 20)))
            except logic.PayloadError as err:
                self._reply(400, {"error": str(err)})
                return
            self._reply(200, {"decisions": remediator.handle(alerts)})

        def log_message(self, *args):
            pass
    return Handler


def main(argv):
    """acgs-remediation CONFIG.json: serve until killed."""
    if len(argv) != 1:
        sys.stderr.write("usage: acgs-remediation CONFIG.json\n")
        return 2
    with open(argv[0]) as handle:
        config = json.load(handle)
    remediator = Remediator(config)
    server = ThreadingHTTPServer((config["listen_host"], int(config["listen_port"])), handler_for(remediator))
    sys.stdout.write("acgs-remediation listening on %s:%s, enabled=%s\n" % (
        config["listen_host"], config["listen_port"], config["enabled"]))
    sys.stdout.flush()
    server.serve_forever()
    return 0

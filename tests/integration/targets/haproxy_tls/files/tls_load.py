#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bounded HTTPS load on loopback TLS ports, counting every failed request.

Workers send GET PATH over a new TLS connection each time (so every request goes
through accept and the handshake, as after a reload) to each port, until STOP_FILE
appears or MAX_SECONDS pass. READY_FILE is written once every port has answered, so a
caller can wait for the load to run before it acts. After the stop, one last request
per port records which certificate each port serves. The totals go to RESULT as JSON:
requests, failures (connection errors, timeouts and any status but 200), the errors,
the certificates served (SHA-256 of the DER, with counts) and the last one per port.
Certificates are recorded, not verified: this measures availability.
"""
import argparse
import collections
import hashlib
import http.client
import json
import os
import ssl
import threading
import time


def fetch(host, port, path, timeout):
    """One request on a new connection; (status, sha256 of the served certificate)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    try:
        conn.connect()
        fingerprint = hashlib.sha256(conn.sock.getpeercert(binary_form=True)).hexdigest()
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        response.read()
        return response.status, fingerprint
    finally:
        conn.close()


class Tally(object):
    def __init__(self, ports):
        self.lock = threading.Lock()
        self.requests = 0
        self.failures = 0
        self.errors = collections.Counter()
        self.statuses = collections.Counter()
        self.fingerprints = collections.Counter()
        self.per_port = {port: {"requests": 0, "failures": 0} for port in ports}
        self.answered = set()
        self.all_answered = threading.Event()

    def record(self, port, status=None, fingerprint=None, error=None):
        with self.lock:
            self.requests += 1
            self.per_port[port]["requests"] += 1
            if fingerprint:
                self.fingerprints[fingerprint] += 1
            if status is not None:
                self.statuses[str(status)] += 1
            if error is not None or status != 200:
                self.failures += 1
                self.per_port[port]["failures"] += 1
                self.errors[error or "HTTP %s" % status] += 1
            else:
                self.answered.add(port)
                if len(self.answered) == len(self.per_port):
                    self.all_answered.set()


def one(tally, args, port):
    try:
        status, fingerprint = fetch(args.host, port, args.path, args.timeout)
    except Exception as exc:  # every failure counts, whatever it is
        tally.record(port, error="%s on %d: %s" % (type(exc).__name__, port, exc))
        return None
    tally.record(port, status=status, fingerprint=fingerprint)
    return fingerprint


def worker(tally, args, port, stop):
    while not stop.is_set():
        one(tally, args, port)


def write_json(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
    os.rename(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--ports", required=True, help="comma-separated TLS ports")
    parser.add_argument("--path", default="/health")
    parser.add_argument("--workers-per-port", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=5.0, help="per request, seconds")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="bound on the run")
    parser.add_argument("--ready-file", required=True)
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--result", required=True)
    args = parser.parse_args()

    ports = [int(p) for p in args.ports.split(",") if p.strip()]
    tally = Tally(ports)
    stop = threading.Event()
    started = time.time()
    deadline = time.monotonic() + args.max_seconds
    threads = [threading.Thread(target=worker, args=(tally, args, port, stop), daemon=True,
                                name="load-%d-%d" % (port, index))
               for port in ports for index in range(args.workers_per_port)]
    for thread in threads:
        thread.start()

    stopped_by = "deadline"
    ready = False
    # Wait on the conditions: every port answered (then say so), the stop file, the bound.
    while time.monotonic() < deadline:
        if not ready and tally.all_answered.wait(0.05):
            write_json(args.ready_file, {"pid": os.getpid(), "started": started})
            ready = True
        if os.path.exists(args.stop_file):
            stopped_by = "stop_file"
            break
        if ready:
            stop.wait(0.05)
    stop.set()
    for thread in threads:
        thread.join(args.timeout * 2)

    final = {str(port): one(tally, args, port) for port in ports}
    with tally.lock:
        result = {
            "ports": ports,
            "seconds": round(time.time() - started, 3),
            "stopped_by": stopped_by,
            "ready": ready,
            "requests": tally.requests,
            "failures": tally.failures,
            "errors": dict(tally.errors),
            "statuses": dict(tally.statuses),
            "fingerprints": dict(tally.fingerprints),
            "per_port": {str(k): v for k, v in tally.per_port.items()},
            "final": final,
        }
    write_json(args.result, result)


if __name__ == "__main__":
    main()

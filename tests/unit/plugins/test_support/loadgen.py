# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A bounded loopback load generator: RATE GET requests/s to each URL, for at most
DURATION seconds, REQUESTS requests per URL (when given) or until STOP_FILE exists; writes JSON counts to OUT at the end: requests
sent and failed (every non-2xx answer and every connection error or timeout), per URL and in
all, the seconds it ran and the achieved rate. Per URL, ``others`` counts what each failed
request got: ``HTTP <code> state=<the JSON body's state> retry-after=<header>``, or the
connection error's class (``error ConnectionResetError``)."""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import threading
import time
from urllib import request
from urllib.error import HTTPError


def describe(err):
    """An HTTP error answer as ``HTTP <code> state=<body's state> retry-after=<header>``."""
    try:
        state = json.loads(err.read(65536).decode("utf-8", "replace")).get("state")
    except Exception:  # pylint: disable=broad-except
        # not a JSON object: no state
        state = None
    return "HTTP %d state=%s retry-after=%s" % (err.code, state or "-", err.headers.get("Retry-After") or "-")


def drive(url, rate, deadline, stop_file, counts, lock, requests=None):
    opener = request.build_opener(request.ProxyHandler({}))
    gap = 1.0 / rate
    due = time.monotonic()
    sent = 0
    while time.monotonic() < deadline and not os.path.exists(stop_file) and (requests is None or sent < requests):
        sent += 1
        other = None
        try:
            with opener.open(url, timeout=5) as answer:
                status = answer.getcode()
                answer.read()
        except HTTPError as err:
            status = err.code
            other = describe(err)
        except Exception as exc:  # pylint: disable=broad-except
            # any other error is a failed request too
            status = 0
            reason = getattr(exc, "reason", None)  # URLError wraps the socket's error
            other = "error %s" % type(reason if isinstance(reason, BaseException) else exc).__name__
        with lock:
            entry = counts.setdefault(url, {"sent": 0, "failed": 0, "statuses": {}})
            entry["sent"] += 1
            entry["failed"] += 0 if 200 <= status < 300 else 1
            entry["statuses"][str(status)] = entry["statuses"].get(str(status), 0) + 1
            if other is not None:
                entry.setdefault("others", {})[other] = entry.get("others", {}).get(other, 0) + 1
        due += gap
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        else:
            due = time.monotonic()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", action="append", required=True)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--duration", type=float, default=300)
    # a sample of a known size (a slow machine sends fewer requests in a given time)
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    started = time.monotonic()
    deadline = started + args.duration
    counts, lock = {}, threading.Lock()
    threads = [threading.Thread(target=drive, args=(url, args.rate, deadline, args.stop_file, counts, lock, args.requests))
               for url in args.url]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with open(args.out, "w") as handle:
        seconds = time.monotonic() - started
        sent = sum(c["sent"] for c in counts.values())
        json.dump({"urls": counts, "sent": sent, "failed": sum(c["failed"] for c in counts.values()),
                   "seconds": round(seconds, 2), "rate": round(sent / seconds, 1) if seconds else 0}, handle)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()

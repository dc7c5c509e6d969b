# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: how probes run - timed, retried, all at once. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from concurrent.futures import ThreadPoolExecutor


def elapsed_ms(start):
    """Milliseconds since ``start`` (a time.monotonic() value)."""
    return int(round((time.monotonic() - start) * 1000))


def with_retries(func, retries, retry_delay, ok):
    """Call ``func`` until ``ok(result)`` or the retries are spent; (result, attempts)."""
    attempts = 0
    while True:
        attempts += 1
        result = func()
        if ok(result) or attempts > retries:
            return result, attempts
        if retry_delay:
            time.sleep(retry_delay)


def run_concurrently(calls, max_workers):
    """Run the zero-argument callables at once; their results in the same order."""
    calls = list(calls)
    if not calls:
        return []
    if len(calls) == 1:
        return [calls[0]()]
    workers = max(1, min(int(max_workers), len(calls)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retries are bounded and concurrent probes keep their order."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.acgs.platform.plugins.module_utils import _probe_run


def test_with_retries_stops_on_success_and_counts():
    calls = []

    def func():
        calls.append(1)
        return len(calls)

    assert _probe_run.with_retries(func, 5, 0, lambda r: r >= 3) == (3, 3)
    calls[:] = []
    assert _probe_run.with_retries(func, 1, 0, lambda r: False) == (2, 2)


def test_run_concurrently_keeps_order():
    assert _probe_run.run_concurrently([(lambda i=i: i * 2) for i in range(20)], 4) == [i * 2 for i in range(20)]
    assert _probe_run.run_concurrently([], 4) == []


def test_run_concurrently_runs_at_once():
    start = time.monotonic()
    _probe_run.run_concurrently([lambda: time.sleep(0.2) for dummy in range(5)], 5)
    assert time.monotonic() - start < 0.6


def test_elapsed_ms():
    assert 0 <= _probe_run.elapsed_ms(time.monotonic()) < 50

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The load generator the live-stack targets count failed requests with, against loopback servers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

from ansible_collections.acgs.platform.tests.unit.plugins.test_support.fault_servers import JsonServer

LOADGEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "loadgen.py")


def load(tmp_path, urls, *extra):
    out = tmp_path / "load.json"
    argv = [sys.executable, LOADGEN, "--stop-file", str(tmp_path / "stop"), "--out", str(out)]
    subprocess.run(argv + ["--url=" + url for url in urls] + list(extra), check=True, stdout=subprocess.DEVNULL, timeout=60)
    return json.loads(out.read_text())


def test_requests_bounds_the_sample_per_url(tmp_path):
    with JsonServer({"/ok": (200, {"ok": True})}) as good, JsonServer({"/ok": (503, {"state": "maintenance"}, {"Retry-After": "300"})}) as bad:
        result = load(tmp_path, [good.url + "/ok", bad.url + "/ok"], "--rate", "200", "--requests", "7", "--duration", "50")
    assert result["urls"][good.url + "/ok"] == {"sent": 7, "failed": 0, "statuses": {"200": 7}}
    assert result["urls"][bad.url + "/ok"]["others"] == {"HTTP 503 state=maintenance retry-after=300": 7}
    assert (result["sent"], result["failed"]) == (14, 7)
    assert result["seconds"] < 50


def test_a_refused_connection_counts_as_failed(tmp_path):
    with JsonServer({}) as server:
        url = server.url + "/"
    result = load(tmp_path, [url], "--rate", "50", "--requests", "3", "--duration", "50")
    assert result["urls"][url]["failed"] == 3 and result["urls"][url]["others"] == {"error ConnectionRefusedError": 3}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Streaming pipelines: one pass, checksums of the stored bytes, failures named without secrets."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import stat
import threading
import sys

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _backup_stream as stream
from ansible_collections.acgs.platform.plugins.module_utils._backup_store import BackupError


def test_pipeline_hashes_stored_bytes_in_one_pass(tmp_path):
    src = tmp_path / "src"
    src.write_bytes(os.urandom(2 * stream.CHUNK_SIZE + 5))
    dest = tmp_path / "out"
    result = stream.Pipeline(str(dest), "none").run(["cat", str(src)], "cat")
    assert result["size"] == src.stat().st_size
    assert result["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600


def test_pipeline_with_compression_hashes_the_compressed_file(tmp_path):
    src = tmp_path / "src"
    src.write_bytes(b"x" * 100000)
    dest = tmp_path / "out.gz"
    result = stream.Pipeline(str(dest), "gzip").run(["cat", str(src)], "cat")
    assert result["size"] == dest.stat().st_size < 100000
    assert result["sha256"] == hashlib.sha256(dest.read_bytes()).hexdigest()
    assert stream.checksum_file(str(dest)) == result


def test_pipeline_callable_producer_and_consumer(tmp_path):
    dest = tmp_path / "out.gz"

    def feed(write):
        for dummy in range(3):
            write(b"abc" * 1000)

    result = stream.Pipeline(str(dest), "gzip").run(feed, "feed")
    with open(str(tmp_path / "back"), "wb") as out:
        observed, problem = stream.run_consumer(str(dest), {"compression": "gzip"}, None, ["cat"], "out.gz", stdout=out)
    assert (observed, problem) == (result, None)
    assert (tmp_path / "back").read_bytes() == b"abc" * 3000


def test_pipeline_failure_names_the_tool_and_hides_secrets(tmp_path):
    with pytest.raises(BackupError) as err:
        stream.Pipeline(str(tmp_path / "o"), "none", secrets=["s3cret"]).run(
            [sys.executable, "-c", "import sys; sys.stderr.write('bad s3cret'); sys.exit(3)"], "thing")
    assert "thing failed" in str(err.value) and "exited with 3" in str(err.value)
    assert "s3cret" not in str(err.value)


def test_run_tool_and_require_tool():
    assert stream.run_tool(["true"]) is None
    problem = stream.run_tool([sys.executable, "-c", "import sys; sys.stderr.write('no s3cret'); sys.exit(2)"], secrets=["s3cret"])
    assert problem.endswith("exited with 2: no ********")
    assert stream.require_tool("tar").endswith("/tar")
    with pytest.raises(BackupError, match="acgs-no-such-tool is not installed: for a test"):
        stream.require_tool("acgs-no-such-tool", ": for a test")


def test_resolve_compression():
    assert stream.resolve_compression("auto") == ("zstd" if stream.which("zstd") else "gzip")
    assert stream.resolve_compression("none") == "none"


def test_compressor_command_lines():
    cores = stream.cpu_count()
    assert cores >= 1
    assert stream.compress_argv("zstd") == ["zstd", "-q", "-c", "-1", "-T%d" % cores]
    assert stream.compress_argv("zstd", level=3, threads=4) == ["zstd", "-q", "-c", "-3", "-T4"]
    assert stream.compress_argv("gzip") == ["gzip", "-c", "-6"]
    assert stream.compress_argv("none") is None


@pytest.mark.skipif(not stream.which("zstd"), reason="zstd is not installed")
def test_zstd_round_trip_with_early_writeback(tmp_path, monkeypatch):
    monkeypatch.setattr(stream.FileSink, "WRITEBACK_BYTES", 4096)
    src = tmp_path / "src"
    src.write_bytes(os.urandom(3 * stream.CHUNK_SIZE) + b"y" * stream.CHUNK_SIZE)
    dest = tmp_path / "out.zst"
    result = stream.Pipeline(str(dest), "zstd", level=3, threads=2).run(["cat", str(src)], "cat")
    assert result == stream.checksum_file(str(dest)) and result["size"] < src.stat().st_size
    with open(str(tmp_path / "back"), "wb") as out:
        observed, problem = stream.run_consumer(str(dest), {"compression": "zstd"}, None, ["cat"], "out.zst", stdout=out)
    assert (observed, problem) == (result, None)
    assert (tmp_path / "back").read_bytes() == src.read_bytes()


def test_run_parallel_keeps_order_bounds_threads_and_raises_after_all_ended():
    running, peak, ended = [0], [0], []
    lock = threading.Lock()

    def task(n):
        def _run():
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            try:
                if n == 1:
                    raise ValueError("task 1 failed")
                return n * 10
            finally:
                with lock:
                    running[0] -= 1
                    ended.append(n)
        return _run

    assert stream.run_parallel([task(n) for n in (0, 2, 3)], 2) == [0, 20, 30]
    assert peak[0] <= 2
    del ended[:]
    with pytest.raises(ValueError, match="task 1 failed"):
        stream.run_parallel([task(n) for n in (0, 1, 2, 3)], 2)
    assert sorted(ended) == [0, 1, 2, 3]

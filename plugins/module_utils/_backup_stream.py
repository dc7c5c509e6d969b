# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: how acgs_backup moves data - external tools and streaming pipelines.

Every data file is written in one streaming pass: the producer's output is read
in chunks, compressed by a tool beside it, optionally encrypted, hashed (sha256
of the stored bytes) and written, so memory stays bounded whatever the size of
the data. Reading back goes the other way into a consumer tool. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import hashlib
import io
import os
import subprocess
import tempfile
import threading

from ansible_collections.acgs.platform.plugins.module_utils._backup_crypto import CHUNK_SIZE, Decryptor, Encryptor
from ansible_collections.acgs.platform.plugins.module_utils._backup_store import BackupError
from ansible_collections.acgs.platform.plugins.module_utils._errors import scrub

COMPRESSORS = {
    "gzip": {"compress": ["gzip", "-c"], "decompress": ["gzip", "-dc"], "suffix": ".gz", "level": 6},
    "zstd": {"compress": ["zstd", "-q", "-c"], "decompress": ["zstd", "-q", "-dc"], "suffix": ".zst", "level": 1},
    "none": {"compress": None, "decompress": None, "suffix": ""},
}
# zstd -1 with one worker thread per core: on the benchmark's database (pgbench rows and
# random bytes) it writes a smaller file than pg_dump -Fc (zlib -6) at several times the
# speed of zstd -3, which gains a few per cent in size at more than twice the CPU.


def cpu_count():
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def run_parallel(tasks, workers):
    """Runs the no-argument callables ``tasks`` in at most ``workers`` threads, in order of the list; their results.

    Every task runs to its end before the first exception (in list order) is raised, so
    no thread still writes into files a caller is about to remove.
    """
    results = [None] * len(tasks)
    errors = [None] * len(tasks)
    pending = list(enumerate(tasks))
    lock = threading.Lock()

    def _work():
        while True:
            with lock:
                if not pending:
                    return
                index, task = pending.pop(0)
            try:
                results[index] = task()
            except BaseException as exc:  # noqa: BLE001 - raised below, after every task ended
                errors[index] = exc

    threads = [threading.Thread(target=_work) for dummy in range(max(1, min(workers, len(tasks))))]
    for thread in threads:
        thread.daemon = True
        thread.start()
    for thread in threads:
        thread.join()
    for exc in errors:
        if exc is not None:
            raise exc
    return results


def compress_argv(compression, level=None, threads=None):
    """The compressor's command line (None for ``none``); zstd runs ``threads`` workers (default: cores)."""
    spec = COMPRESSORS[compression]
    if not spec["compress"]:
        return None
    argv = spec["compress"] + ["-%d" % (spec["level"] if level is None else level)]
    if compression == "zstd":
        argv.append("-T%d" % (threads or cpu_count()))
    return argv


# ---------------------------------------------------------------- tools

def which(name):
    for directory in os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin").split(os.pathsep) + ["/usr/sbin", "/sbin"]:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def require_tool(name, why=""):
    """The path of the tool ``name``; BackupError when it is not installed."""
    path = which(name)
    if not path:
        raise BackupError("%s is not installed%s" % (name, why))
    return path


def tool_version(argv):
    try:
        out = subprocess.check_output(argv, stderr=subprocess.STDOUT, close_fds=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    text = out.decode("utf-8", "replace").strip().splitlines()
    return text[0].strip() if text else None


def run_tool(argv, env=None, secrets=None):
    """Run a tool to its end; None when it succeeded, else what went wrong (secrets scrubbed)."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, close_fds=True)
    err = proc.communicate()[1]
    if proc.returncode != 0:
        return "%s exited with %s: %s" % (os.path.basename(argv[0]), proc.returncode, scrub(err, secrets).strip()[-2000:])
    return None


def resolve_compression(choice):
    """``auto`` is zstd when the binary is present, gzip otherwise."""
    if choice == "auto":
        return "zstd" if which("zstd") else "gzip"
    if choice == "zstd" and not which("zstd"):
        raise BackupError("compression=zstd but the zstd binary is not installed")
    return choice


def _read_stderr(handle, limit=8192):
    handle.seek(0)
    data = handle.read()
    return data[-limit:].decode("utf-8", "replace").strip()


def _stop(procs, errs):
    for dummy, proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()
    for dummy, err in errs:
        err.close()


# ---------------------------------------------------------------- writing

class FileSink(object):
    """Creates ``path`` (0600, exclusive), encrypts, hashes and writes in one pass.

    Every WRITEBACK_BYTES a thread starts an fdatasync of what is written so far (unless
    one still runs), so the disk writes while the data streams and the final fsync
    waits for the tail only, not for the whole file.
    """

    WRITEBACK_BYTES = 64 * 1024 * 1024

    def __init__(self, path, key=None):
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.sha = hashlib.sha256()
        self.size = 0
        self.encryptor = Encryptor(key) if key else None
        self.flushed_at = 0
        self.flusher = None

    def _flush_in_background(self):
        if self.size - self.flushed_at < self.WRITEBACK_BYTES or self.flusher is not None and self.flusher.is_alive():
            return
        self.flushed_at = self.size
        self.flusher = threading.Thread(target=_quiet_fdatasync, args=(self.fd,))
        self.flusher.daemon = True
        self.flusher.start()

    def _write(self, data):
        if not data:
            return
        self.sha.update(data)
        self.size += len(data)
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]
        self._flush_in_background()

    def write(self, data):
        self._write(self.encryptor.update(data) if self.encryptor else data)

    def wait_flusher(self):
        if self.flusher is not None:
            self.flusher.join()

    def close(self):
        if self.encryptor:
            self._write(self.encryptor.finalize())
        self.wait_flusher()
        os.fsync(self.fd)
        os.close(self.fd)
        return {"size": self.size, "sha256": self.sha.hexdigest()}


def _quiet_fdatasync(fd):
    """Early writeback only: the final fsync reports any error."""
    try:
        os.fdatasync(fd)
    except OSError:
        pass


class Pipeline(object):
    """``producer | compressor`` into a FileSink.

    The producer is either an argv (a process whose stdout is the data) or a
    callable ``feed(write)`` run in a thread that pushes chunks. The compressor,
    if any, is a process, so compression runs beside the hashing and writing.
    """

    def __init__(self, dest, compression="none", key=None, env=None, secrets=None, ok_codes=(0,), level=None, threads=None):
        self.dest = dest
        self.compress = compress_argv(compression, level, threads)
        self.key = key
        self.env = env
        self.secrets = secrets or []
        self.ok_codes = ok_codes
        self.warnings = []
        self.stderr = []

    def run(self, producer, name):
        procs = []
        errs = []
        feeder = None
        feed_error = []
        sink = None
        try:
            if callable(producer):
                read_fd, write_fd = os.pipe()
                src = read_fd

                def _feed():
                    try:
                        with io.open(write_fd, "wb", closefd=True) as out:
                            producer(out.write)
                    except Exception as exc:  # noqa: BLE001 - reported below
                        feed_error.append(exc)

                feeder = threading.Thread(target=_feed)
                feeder.daemon = True
                feeder.start()
            else:
                err = tempfile.TemporaryFile()
                errs.append((producer[0], err))
                proc = subprocess.Popen(producer, stdout=subprocess.PIPE, stderr=err, env=self.env, close_fds=True)
                procs.append((producer[0], proc))
                src = proc.stdout.fileno()
            compress = self.compress
            if compress:
                err = tempfile.TemporaryFile()
                errs.append((compress[0], err))
                proc = subprocess.Popen(compress, stdin=src, stdout=subprocess.PIPE, stderr=err, close_fds=True)
                if feeder is not None:
                    os.close(src)
                else:
                    procs[0][1].stdout.close()
                procs.append((compress[0], proc))
                src = proc.stdout.fileno()
            sink = FileSink(self.dest, self.key)
            while True:
                chunk = os.read(src, CHUNK_SIZE)
                if not chunk:
                    break
                sink.write(chunk)
            result = sink.close()
            sink = None
            if feeder is not None:
                feeder.join()
                if not compress:
                    os.close(src)
            failures = []
            for index, (prog, proc) in enumerate(procs):
                code = proc.wait()
                stderr = scrub(_read_stderr(errs[index][1]), self.secrets)
                self.stderr.append(stderr)
                ok = self.ok_codes if index == 0 and feeder is None else (0,)
                if code not in ok:
                    failures.append("%s exited with %s: %s" % (prog, code, stderr))
                elif code != 0:
                    self.warnings.append("%s exited with %s: %s" % (prog, code, stderr))
            if feed_error:
                failures.insert(0, scrub(str(feed_error[0]), self.secrets))
            if failures:
                raise BackupError("%s failed: %s" % (name, "; ".join(failures)))
            return result
        finally:
            if sink is not None:
                sink.wait_flusher()
                os.close(sink.fd)
            _stop(procs, errs)


# ---------------------------------------------------------------- reading

class StoredReader(object):
    """Reads a stored file once: sha256 and size of the stored bytes, decrypts,
    and writes the plain (still compressed) bytes to a pipe for a consumer.

    If the consumer stops reading early (``pg_restore --list`` reads only the
    table of contents) hashing continues to the end of the file.
    """

    def __init__(self, path, key=None, name=None):
        self.path = path
        self.key = key
        self.name = name or path
        self.sha = hashlib.sha256()
        self.size = 0
        self.error = None
        self.read_fd, self.write_fd = os.pipe()
        self.thread = threading.Thread(target=self._run)
        self.thread.daemon = True

    def start(self):
        self.thread.start()
        return self.read_fd

    def _run(self):
        decryptor = Decryptor(self.key, self.name) if self.key else None
        out = io.open(self.write_fd, "wb", closefd=True)
        broken = False
        try:
            with open(self.path, "rb") as handle:
                while True:
                    chunk = handle.read(CHUNK_SIZE)
                    if not chunk:
                        break
                    self.sha.update(chunk)
                    self.size += len(chunk)
                    data = decryptor.update(chunk) if decryptor else chunk
                    if data and not broken:
                        try:
                            out.write(data)
                        except (IOError, OSError) as exc:
                            if exc.errno != errno.EPIPE:
                                raise
                            broken = True
            if decryptor:
                decryptor.finalize()
        except BackupError as exc:
            self.error = exc
        except (IOError, OSError) as exc:
            self.error = BackupError("cannot read %s: %s" % (self.name, exc))
        finally:
            try:
                out.close()
            except (IOError, OSError):
                pass

    def finish(self):
        self.thread.join()
        return {"size": self.size, "sha256": self.sha.hexdigest()}


def run_consumer(path, entry, key, consumer_argv, name, env=None, secrets=None, stdout=None, ok_codes=(0,), checksum=True):
    """stored file -> (decrypt) -> (decompress) -> consumer process.

    Returns (observed {size, sha256}, error message or None). The checksum is
    compared by the caller, so a flipped byte is named even when the consumer
    also chokes on it. With ``checksum=False`` (a file verified already) an
    unencrypted file goes from the disk straight into the decompressor or the
    consumer, and observed is None.
    """
    if checksum or entry.get("encrypted"):
        reader = StoredReader(path, key if entry.get("encrypted") else None, name)
        src = reader.start()
    else:
        reader, src = None, os.open(path, os.O_RDONLY)
    procs = []
    errs = []
    try:
        decompress = COMPRESSORS[entry.get("compression", "none")]["decompress"]
        if decompress:
            err = tempfile.TemporaryFile()
            errs.append((decompress[0], err))
            proc = subprocess.Popen(decompress, stdin=src, stdout=subprocess.PIPE, stderr=err, close_fds=True)
            os.close(src)
            procs.append((decompress[0], proc))
            src = proc.stdout.fileno()
        err = tempfile.TemporaryFile()
        errs.append((consumer_argv[0], err))
        proc = subprocess.Popen(consumer_argv, stdin=src, stdout=stdout if stdout is not None else subprocess.DEVNULL,
                                stderr=err, env=env, close_fds=True)
        procs.append((consumer_argv[0], proc))
        if decompress:
            procs[0][1].stdout.close()
        else:
            os.close(src)
        codes = [(prog, p.wait()) for prog, p in procs]
        observed = reader.finish() if reader else None
        problem = None
        if reader is not None and reader.error is not None:
            problem = str(reader.error)
        else:
            last_prog, last_code = codes[-1]
            if last_code not in ok_codes:
                problem = "%s exited with %s: %s" % (last_prog, last_code, scrub(_read_stderr(errs[-1][1]), secrets))
            elif len(codes) > 1 and codes[0][1] not in (0, -13, 141):
                # a decompressor killed by SIGPIPE is fine when the consumer stopped early
                problem = "%s exited with %s: %s" % (codes[0][0], codes[0][1], _read_stderr(errs[0][1]))
        return observed, problem
    finally:
        _stop(procs, errs)


def checksum_file(path, key=None, entry=None):
    """Stored-bytes checksum and, for an encrypted file, a full authenticated decrypt."""
    sha = hashlib.sha256()
    size = 0
    decryptor = Decryptor(key, path) if key and entry and entry.get("encrypted") else None
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(CHUNK_SIZE)
            if not chunk:
                break
            sha.update(chunk)
            size += len(chunk)
            if decryptor:
                decryptor.update(chunk)
    if decryptor:
        decryptor.finalize()
    return {"size": size, "sha256": sha.hexdigest()}

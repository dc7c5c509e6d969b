# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup store of acgs_backup: sets, manifests, streaming writer, retention.

A backup set is a directory ``<backup_dir>/backup-<epoch>`` holding the data files
and ``manifest.json``. A set is built in ``<backup_dir>/.backup-<epoch>.partial`` and
renamed into place only after its manifest is written (temporary file, fsync,
rename) and fsynced, so a set without a complete manifest is never listed; the
next run removes such leftovers under the store's lock.

Every data file is written in one streaming pass: the producer's output is read
in chunks, optionally encrypted, hashed (sha256 of the stored bytes) and written,
so memory stays bounded whatever the size of the data.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import errno
import fcntl
import hashlib
import io
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time

try:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - depends on the host
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = exc

    class InvalidTag(Exception):
        pass

FORMAT_VERSION = 1
CHUNK_SIZE = 1024 * 1024
MANIFEST_NAME = "manifest.json"
VERIFICATION_NAME = "verification.json"
LOCK_NAME = ".lock"
PARTIAL_SUFFIX = ".partial"
ID_RE = re.compile(r"^backup-(\d+)$")
PARTIAL_RE = re.compile(r"^\.(backup-\d+\.partial|verify-.*|restore-.*)$")

COMPRESSORS = {
    "gzip": {"compress": ["gzip", "-c", "-6"], "decompress": ["gzip", "-dc"], "suffix": ".gz"},
    "zstd": {"compress": ["zstd", "-q", "-c", "-3", "-T0"], "decompress": ["zstd", "-q", "-dc"], "suffix": ".zst"},
    "none": {"compress": None, "decompress": None, "suffix": ""},
}

ENC_MAGIC = b"ACGSENC1"
ENC_SUFFIX = ".enc"
ENC_ALGORITHM = "AES-256-GCM-chunked"
_LEN = struct.Struct(">I")


class BackupError(Exception):
    """A failure with a message fit for the operator (no secrets, no traceback)."""


def utc_iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def which(name):
    for directory in os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin").split(os.pathsep) + ["/usr/sbin", "/sbin"]:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def resolve_compression(choice):
    """``auto`` is zstd when the binary is present, gzip otherwise."""
    if choice == "auto":
        return "zstd" if which("zstd") else "gzip"
    if choice == "zstd" and not which("zstd"):
        raise BackupError("compression=zstd but the zstd binary is not installed")
    return choice


def redact(text, secrets):
    text = text if isinstance(text, str) else text.decode("utf-8", "replace")
    for secret in secrets or ():
        if secret:
            text = text.replace(secret, "********")
    return text


# ---------------------------------------------------------------- filesystem

def ensure_dir(path, mode=0o700):
    if not os.path.isdir(path):
        os.makedirs(path, mode)
    os.chmod(path, mode)


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomic(path, data):
    """Temporary file in the same directory, fsync, rename, fsync the directory."""
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    fsync_dir(directory)


class StoreLock(object):
    """Exclusive flock on ``<backup_dir>/.lock``; the kernel drops it if we die."""

    def __init__(self, backup_dir, timeout=600):
        self.path = os.path.join(backup_dir, LOCK_NAME)
        self.timeout = timeout
        self.fd = None

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.time() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.time() > deadline:
                    raise BackupError("another backup run holds %s for more than %ss" % (self.path, self.timeout))
                time.sleep(0.2)

    def __exit__(self, *exc):
        os.close(self.fd)
        self.fd = None
        return False


# ---------------------------------------------------------------- encryption

def load_key(path):
    """A 32-byte key: raw, hex (64 characters) or base64 (44 characters)."""
    if not HAS_CRYPTOGRAPHY:
        raise BackupError("encryption needs the Python library cryptography: %s" % CRYPTOGRAPHY_IMPORT_ERROR)
    try:
        with open(path, "rb") as handle:
            data = handle.read(4096)
    except (IOError, OSError) as exc:
        raise BackupError("cannot read encryption_key_file %s: %s" % (path, exc.strerror))
    if len(data) == 32:
        return data
    text = data.strip()
    try:
        if len(text) == 64:
            return binascii.unhexlify(text)
        decoded = base64.b64decode(text, validate=True)
        if len(decoded) == 32:
            return decoded
    except (binascii.Error, ValueError):
        pass
    raise BackupError("encryption_key_file %s must hold a 256-bit key (32 raw bytes, 64 hex or base64 characters)" % path)


def key_fingerprint(key):
    return hashlib.sha256(b"acgs-backup-key\0" + key).hexdigest()[:16]


class Encryptor(object):
    """Chunked AES-256-GCM: header ``magic + nonce prefix``, then framed chunks.

    Each chunk is ``length + ciphertext||tag`` with nonce ``prefix + counter``
    and the last chunk marked in the associated data, so truncation, reordering
    and a wrong key are all detected.
    """

    def __init__(self, key):
        self.aead = AESGCM(key)
        self.prefix = os.urandom(8)
        self.counter = 0
        self.buffer = bytearray()
        self.started = False

    def _seal(self, data, last):
        nonce = self.prefix + struct.pack(">I", self.counter)
        self.counter += 1
        sealed = self.aead.encrypt(nonce, bytes(data), b"\x01" if last else b"\x00")
        return _LEN.pack(len(sealed)) + sealed

    def update(self, data):
        out = []
        if not self.started:
            out.append(ENC_MAGIC + self.prefix)
            self.started = True
        self.buffer.extend(data)
        while len(self.buffer) > CHUNK_SIZE:
            out.append(self._seal(self.buffer[:CHUNK_SIZE], False))
            del self.buffer[:CHUNK_SIZE]
        return b"".join(out)

    def finalize(self):
        head = b"" if self.started else ENC_MAGIC + self.prefix
        self.started = True
        out = head + self._seal(self.buffer, True)
        self.buffer = bytearray()
        return out


class Decryptor(object):
    """Inverse of Encryptor, fed arbitrary slices of the stored bytes."""

    def __init__(self, key, name):
        self.aead = AESGCM(key)
        self.name = name
        self.buffer = bytearray()
        self.prefix = None
        self.counter = 0
        self.done = False

    def _fail(self, why):
        raise BackupError("cannot decrypt %s: %s" % (self.name, why))

    def update(self, data):
        self.buffer.extend(data)
        out = []
        if self.prefix is None:
            if len(self.buffer) < 16:
                return b""
            if bytes(self.buffer[:8]) != ENC_MAGIC:
                self._fail("not an acgs_backup encrypted file")
            self.prefix = bytes(self.buffer[8:16])
            del self.buffer[:16]
        while len(self.buffer) >= 4:
            (length,) = _LEN.unpack(bytes(self.buffer[:4]))
            if length > CHUNK_SIZE + 16 or length < 16:
                self._fail("corrupted chunk header")
            if len(self.buffer) < 4 + length:
                break
            if self.done:
                self._fail("data after the final chunk")
            sealed = bytes(self.buffer[4:4 + length])
            del self.buffer[:4 + length]
            nonce = self.prefix + struct.pack(">I", self.counter)
            self.counter += 1
            try:
                try:
                    out.append(self.aead.decrypt(nonce, sealed, b"\x00"))
                except InvalidTag:
                    out.append(self.aead.decrypt(nonce, sealed, b"\x01"))
                    self.done = True
            except InvalidTag:
                self._fail("authentication failed (wrong encryption key or corrupted data)")
        return b"".join(out)

    def finalize(self):
        if self.prefix is None or self.buffer or not self.done:
            self._fail("file is truncated")
        return b""


# ---------------------------------------------------------------- streaming

class FileSink(object):
    """Creates ``path`` (0600, exclusive), encrypts, hashes and writes in one pass."""

    def __init__(self, path, key=None):
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.sha = hashlib.sha256()
        self.size = 0
        self.encryptor = Encryptor(key) if key else None

    def _write(self, data):
        if not data:
            return
        self.sha.update(data)
        self.size += len(data)
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]

    def write(self, data):
        self._write(self.encryptor.update(data) if self.encryptor else data)

    def close(self):
        if self.encryptor:
            self._write(self.encryptor.finalize())
        os.fsync(self.fd)
        os.close(self.fd)
        return {"size": self.size, "sha256": self.sha.hexdigest()}


def _read_stderr(handle, limit=8192):
    handle.seek(0)
    data = handle.read()
    return data[-limit:].decode("utf-8", "replace").strip()


class Pipeline(object):
    """``producer | compressor`` into a FileSink.

    The producer is either an argv (a process whose stdout is the data) or a
    callable ``feed(write)`` run in a thread that pushes chunks. The compressor,
    if any, is a process, so compression runs beside the hashing and writing.
    """

    def __init__(self, dest, compression="none", key=None, env=None, secrets=None, ok_codes=(0,)):
        self.dest = dest
        self.compression = compression
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
            compress = COMPRESSORS[self.compression]["compress"]
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
                self.stderr.append(redact(_read_stderr(errs[index][1]), self.secrets))
                ok = self.ok_codes if index == 0 and feeder is None else (0,)
                if code not in ok:
                    failures.append("%s exited with %s: %s" % (prog, code, redact(_read_stderr(errs[index][1]), self.secrets)))
                elif code != 0:
                    self.warnings.append("%s exited with %s: %s" % (prog, code, redact(_read_stderr(errs[index][1]), self.secrets)))
            if feed_error:
                failures.insert(0, redact(str(feed_error[0]), self.secrets))
            if failures:
                raise BackupError("%s failed: %s" % (name, "; ".join(failures)))
            return result
        finally:
            if sink is not None:
                os.close(sink.fd)
            for dummy, proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                if proc.stdout:
                    proc.stdout.close()
            for dummy, err in errs:
                err.close()


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


def run_consumer(path, entry, key, consumer_argv, name, env=None, secrets=None, stdout=None, ok_codes=(0,)):
    """stored file -> (decrypt) -> (decompress) -> consumer process.

    Returns (observed {size, sha256}, error message or None). The checksum is
    compared by the caller, so a flipped byte is named even when the consumer
    also chokes on it.
    """
    reader = StoredReader(path, key if entry.get("encrypted") else None, name)
    src = reader.start()
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
        observed = reader.finish()
        problem = None
        if reader.error is not None:
            problem = str(reader.error)
        else:
            last_prog, last_code = codes[-1]
            if last_code not in ok_codes:
                problem = "%s exited with %s: %s" % (last_prog, last_code, redact(_read_stderr(errs[-1][1]), secrets))
            elif len(codes) > 1 and codes[0][1] not in (0, -13, 141):
                # a decompressor killed by SIGPIPE is fine when the consumer stopped early
                problem = "%s exited with %s: %s" % (codes[0][0], codes[0][1], _read_stderr(errs[0][1]))
        return observed, problem
    finally:
        for dummy, proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for dummy, err in errs:
            err.close()


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


# ---------------------------------------------------------------- the store

def list_dir_safe(path):
    try:
        return sorted(os.listdir(path))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return []
        raise


def read_manifest(set_dir):
    """The manifest of a set, or None if it is missing or incomplete."""
    path = os.path.join(set_dir, MANIFEST_NAME)
    try:
        with open(path) as handle:
            manifest = json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or not manifest.get("complete"):
        return None
    if manifest.get("backup_id") != os.path.basename(set_dir.rstrip("/")):
        return None
    if not isinstance(manifest.get("files"), dict):
        return None
    return manifest


def read_verification(set_dir):
    try:
        with open(os.path.join(set_dir, VERIFICATION_NAME)) as handle:
            data = json.load(handle)
        return data if isinstance(data, dict) else None
    except (IOError, OSError, ValueError):
        return None


def list_sets(backup_dir):
    """Complete sets, newest first: dicts with backup_id, path, manifest, verification."""
    sets = []
    for name in list_dir_safe(backup_dir):
        match = ID_RE.match(name)
        path = os.path.join(backup_dir, name)
        if not match or not os.path.isdir(path):
            continue
        manifest = read_manifest(path)
        if manifest is None:
            continue
        sets.append({
            "backup_id": name,
            "path": path,
            "epoch": int(match.group(1)),
            "created_epoch": float(manifest.get("created_epoch", match.group(1))),
            "manifest": manifest,
            "verification": read_verification(path),
        })
    sets.sort(key=lambda item: (item["created_epoch"], item["epoch"]), reverse=True)
    return sets


def find_leftovers(backup_dir):
    """Partial sets and set directories without a complete manifest."""
    leftovers = []
    for name in list_dir_safe(backup_dir):
        path = os.path.join(backup_dir, name)
        if PARTIAL_RE.match(name):
            leftovers.append(path)
        elif ID_RE.match(name) and os.path.isdir(path) and read_manifest(path) is None:
            leftovers.append(path)
    return leftovers


def remove_tree(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def new_backup_id(backup_dir, now=None):
    epoch = int(now if now is not None else time.time())
    while True:
        backup_id = "backup-%d" % epoch
        if not os.path.lexists(os.path.join(backup_dir, backup_id)) and \
                not os.path.lexists(os.path.join(backup_dir, "." + backup_id + PARTIAL_SUFFIX)):
            return backup_id
        epoch += 1


def select_set(backup_dir, backup_id=None):
    sets = list_sets(backup_dir)
    if backup_id in (None, "", "latest"):
        if not sets:
            raise BackupError("backup_dir %s holds no complete backup set" % backup_dir)
        return sets[0]
    if not ID_RE.match(backup_id):
        raise BackupError("backup_id %r is malformed: expected backup-<epoch>" % backup_id)
    for item in sets:
        if item["backup_id"] == backup_id:
            return item
    raise BackupError("backup set %s not found in %s (or its manifest is incomplete)" % (backup_id, backup_dir))


def plan_retention(sets, keep_last=None, max_age_days=None, now=None, protect=()):
    """Backup ids to delete. ``sets`` newest first (as list_sets returns them).

    A set is dropped when it is beyond the newest ``keep_last`` or older than
    ``max_age_days``; the newest verified set is never dropped, nor the newest set
    at all when no set is verified, nor the ids in ``protect``.
    """
    if not keep_last and max_age_days is None:
        return []
    now = time.time() if now is None else now
    keep = set(protect)
    verified = [s for s in sets if (s.get("verification") or {}).get("ok")]
    if verified:
        keep.add(verified[0]["backup_id"])
    elif sets:
        keep.add(sets[0]["backup_id"])
    doomed = []
    for index, item in enumerate(sets):
        if item["backup_id"] in keep:
            continue
        too_many = bool(keep_last) and index >= keep_last
        too_old = max_age_days is not None and now - item["created_epoch"] > max_age_days * 86400.0
        if too_many or too_old:
            doomed.append(item["backup_id"])
    return doomed


def host_name():
    try:
        return socket.getfqdn()
    except Exception:  # noqa: BLE001
        return socket.gethostname()


def tool_version(argv):
    try:
        out = subprocess.check_output(argv, stderr=subprocess.STDOUT, close_fds=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    text = out.decode("utf-8", "replace").strip().splitlines()
    return text[0].strip() if text else None

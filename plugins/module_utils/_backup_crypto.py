# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: encryption at rest of acgs_backup files - chunked AES-256-GCM.

The key comes from ``encryption_key_file``; the manifest records its fingerprint,
never the key, so a wrong key is refused before anything is read or changed.
The Python library cryptography is needed only when a key is given. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import os
import struct

from ansible_collections.acgs.platform.plugins.module_utils._backup_store import BackupError
from ansible_collections.acgs.platform.plugins.module_utils._libraries import load_library

CHUNK_SIZE = 1024 * 1024
ENC_MAGIC = b"ACGSENC1"
ENC_SUFFIX = ".enc"
ENC_ALGORITHM = "AES-256-GCM-chunked"
_LEN = struct.Struct(">I")


def _cryptography():
    """(AESGCM, InvalidTag) of the cryptography library."""
    aead, exceptions = load_library("cryptography.hazmat.primitives.ciphers.aead"), load_library("cryptography.exceptions")
    if aead is None or exceptions is None:
        raise BackupError("encryption needs the Python library cryptography")
    return aead.AESGCM, exceptions.InvalidTag


def load_key(path):
    """A 32-byte key: raw, hex (64 characters) or base64 (44 characters)."""
    _cryptography()
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


def key_from_params(params):
    """The key of ``encryption_key_file``, or None without one."""
    path = params.get("encryption_key_file")
    return load_key(path) if path else None


def check_key(manifest, key):
    """The key to read the set with (None for a plain set); refuses a missing or wrong key."""
    enc = manifest.get("encryption")
    if not enc:
        return None
    if key is None:
        raise BackupError("backup set %s is encrypted: encryption_key_file is required" % manifest["backup_id"])
    if key_fingerprint(key) != enc.get("key_fingerprint"):
        raise BackupError("wrong encryption key for backup set %s: key fingerprint %s, the set was made with %s" % (
            manifest["backup_id"], key_fingerprint(key), enc.get("key_fingerprint")))
    return key


def _nonce(prefix, counter):
    return prefix + struct.pack(">I", counter)


class Encryptor(object):
    """Chunked AES-256-GCM: header ``magic + nonce prefix``, then framed chunks.

    Each chunk is ``length + ciphertext||tag`` with nonce ``prefix + counter``
    and the last chunk marked in the associated data, so truncation, reordering
    and a wrong key are all detected.
    """

    def __init__(self, key):
        self.aead = _cryptography()[0](key)
        self.prefix = os.urandom(8)
        self.counter = 0
        self.buffer = bytearray()
        self.started = False

    def _seal(self, data, last):
        sealed = self.aead.encrypt(_nonce(self.prefix, self.counter), bytes(data), b"\x01" if last else b"\x00")
        self.counter += 1
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
        aesgcm, self.invalid_tag = _cryptography()
        self.aead = aesgcm(key)
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
            nonce = _nonce(self.prefix, self.counter)
            self.counter += 1
            try:
                try:
                    out.append(self.aead.decrypt(nonce, sealed, b"\x00"))
                except self.invalid_tag:
                    out.append(self.aead.decrypt(nonce, sealed, b"\x01"))
                    self.done = True
            except self.invalid_tag:
                self._fail("authentication failed (wrong encryption key or corrupted data)")
        return b"".join(out)

    def finalize(self):
        if self.prefix is None or self.buffer or not self.done:
            self._fail("file is truncated")
        return b""

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Encryption at rest: round trip, wrong key, truncation, key files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _backup_crypto as crypto
from ansible_collections.acgs.platform.plugins.module_utils._backup_store import BackupError

pytest.importorskip("cryptography", reason="the Python library cryptography is needed (tests/unit/requirements.txt)")


def test_encryption_roundtrip_and_wrong_key(tmp_path):
    key = os.urandom(32)
    plain = os.urandom(crypto.CHUNK_SIZE * 2 + 3)
    enc = crypto.Encryptor(key)
    blob = enc.update(plain[:1000]) + enc.update(plain[1000:]) + enc.finalize()
    dec = crypto.Decryptor(key, "f")
    out = b"".join(dec.update(blob[i:i + 7777]) for i in range(0, len(blob), 7777))
    dec.finalize()
    assert out == plain
    with pytest.raises(BackupError) as err:
        crypto.Decryptor(os.urandom(32), "f").update(blob)
    assert "wrong encryption key" in str(err.value)
    truncated = crypto.Decryptor(key, "f")
    truncated.update(blob[:-100])
    with pytest.raises(BackupError, match="truncated"):
        truncated.finalize()


def test_load_key_formats(tmp_path):
    raw = os.urandom(32)
    (tmp_path / "raw").write_bytes(raw)
    (tmp_path / "hex").write_text(raw.hex() + "\n")
    assert crypto.load_key(str(tmp_path / "raw")) == crypto.load_key(str(tmp_path / "hex")) == raw
    (tmp_path / "short").write_text("tooshort")
    with pytest.raises(BackupError, match="256-bit"):
        crypto.load_key(str(tmp_path / "short"))
    with pytest.raises(BackupError, match="cannot read"):
        crypto.load_key(str(tmp_path / "missing"))


def test_check_key():
    key = os.urandom(32)
    manifest = {"backup_id": "backup-1", "encryption": {"key_fingerprint": crypto.key_fingerprint(key)}}
    assert crypto.check_key(manifest, key) == key
    assert crypto.check_key({"backup_id": "backup-1", "encryption": None}, key) is None
    with pytest.raises(BackupError, match="encryption_key_file is required"):
        crypto.check_key(manifest, None)
    with pytest.raises(BackupError, match="wrong encryption key"):
        crypto.check_key(manifest, os.urandom(32))

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verification names the bad file, and refuses a wrong or missing key."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.acgs.platform.plugins.module_utils._backup_create import create_set
from ansible_collections.acgs.platform.plugins.module_utils._backup_store import BackupError, read_verification
from ansible_collections.acgs.platform.plugins.module_utils._backup_verify import verified_set


def params(backup_dir, **extra):
    return dict(dict(state="verified", backup_dir=str(backup_dir), compression="gzip", paths=[], verify=True), **extra)


@pytest.fixture
def taken(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.conf").write_bytes(os.urandom(100000))
    return create_set(params(tmp_path / "store", state="present", paths=[str(tmp_path / "data")]))


def test_intact_set(tmp_path, taken):
    result = verified_set(params(tmp_path / "store"))
    assert result["backup_id"] == taken["backup_id"] and result["verification"]["ok"]
    assert result["verification"]["summary"] == "all 1 files intact and readable"
    assert read_verification(taken["backup_path"])["ok"] is True


def test_flipped_byte_is_named(tmp_path, taken):
    (name, entry), = taken["manifest"]["files"].items()
    path = tmp_path / "store" / taken["backup_id"] / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    verification = verified_set(params(tmp_path / "store"))["verification"]
    assert not verification["ok"] and verification["bad_files"] == [name]
    assert "sha256 mismatch" in verification["files"][name]["error"]
    path.write_bytes(bytes(data[:-10]))
    assert "size is" in verified_set(params(tmp_path / "store"))["verification"]["files"][name]["error"]


def test_check_mode_records_nothing(tmp_path, taken):
    os.unlink(os.path.join(taken["backup_path"], "verification.json"))
    assert verified_set(params(tmp_path / "store"), check_mode=True)["verification"]["ok"]
    assert read_verification(taken["backup_path"]) is None


def test_encrypted_set_needs_the_right_key(tmp_path):
    pytest.importorskip("cryptography")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.conf").write_text("alpha\n")
    (tmp_path / "key").write_bytes(os.urandom(32))
    (tmp_path / "other").write_bytes(os.urandom(32))
    create_set(params(tmp_path / "store", state="present", paths=[str(tmp_path / "data")], encryption_key_file=str(tmp_path / "key")))
    assert verified_set(params(tmp_path / "store", encryption_key_file=str(tmp_path / "key")))["verification"]["ok"]
    with pytest.raises(BackupError, match="wrong encryption key"):
        verified_set(params(tmp_path / "store", encryption_key_file=str(tmp_path / "other")))
    with pytest.raises(BackupError, match="encryption_key_file is required"):
        verified_set(params(tmp_path / "store"))

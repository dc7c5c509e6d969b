# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Taking a set of paths (no server needed): manifest, modes, leftovers, encryption, bad input."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import shutil
import stat

import pytest

from ansible_collections.acgs.platform.plugins.module_utils._backup_create import create_set
from ansible_collections.acgs.platform.plugins.module_utils._backup_store import BackupError, list_sets
from ansible_collections.acgs.platform.plugins.module_utils.catalog import CONSTITUTIONAL_HASH


def params(backup_dir, **extra):
    return dict(dict(state="present", backup_dir=str(backup_dir), compression="gzip", paths=[], verify=True), **extra)


@pytest.fixture
def data_tree(tmp_path):
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    (root / "a.conf").write_text("alpha\n")
    (root / "sub" / "b.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    return root


def test_paths_set(tmp_path, data_tree):
    backup_dir = tmp_path / "store"
    warnings = []
    result = create_set(params(backup_dir, paths=[str(data_tree), str(tmp_path / "missing")]), warn=warnings.append)
    assert result["changed"] and result["verification"]["ok"]
    assert warnings == ["paths: %s does not exist, not backed up" % (tmp_path / "missing")]
    manifest = result["manifest"]
    assert manifest["backup_id"].startswith("backup-") and manifest["constitutional_hash"] == CONSTITUTIONAL_HASH
    (name, entry), = manifest["files"].items()
    stored = backup_dir / manifest["backup_id"] / name
    assert entry["sha256"] == hashlib.sha256(stored.read_bytes()).hexdigest()
    assert stat.S_IMODE((backup_dir / manifest["backup_id"]).stat().st_mode) == 0o700
    assert [s["backup_id"] for s in list_sets(str(backup_dir))] == [manifest["backup_id"]]


def test_leftovers_are_removed_by_the_next_run(tmp_path, data_tree):
    backup_dir = tmp_path / "store"
    (backup_dir / ".backup-100.partial").mkdir(parents=True)
    (backup_dir / "backup-200").mkdir()
    result = create_set(params(backup_dir, paths=[str(data_tree)]))
    assert sorted(result["leftovers_removed"]) == [".backup-100.partial", "backup-200"]
    assert sorted(os.listdir(str(backup_dir))) == [".lock", result["backup_id"]]


def test_encrypted_set(tmp_path, data_tree):
    pytest.importorskip("cryptography")
    key_file = tmp_path / "key"
    key_file.write_bytes(os.urandom(32))
    result = create_set(params(tmp_path / "store", paths=[str(data_tree)], encryption_key_file=str(key_file)))
    assert result["verification"]["ok"] and result["manifest"]["encryption"]["key_fingerprint"]
    (name, entry), = result["manifest"]["files"].items()
    assert name.endswith(".enc") and entry["encrypted"]
    assert b"alpha" not in (tmp_path / "store" / result["backup_id"] / name).read_bytes()


def test_check_mode_writes_nothing(tmp_path, data_tree):
    assert create_set(params(tmp_path / "store", paths=[str(data_tree)]), check_mode=True)["changed"]
    assert not (tmp_path / "store").exists()


def test_bad_input_names_the_parameter(tmp_path):
    with pytest.raises(BackupError, match="component"):
        create_set(params(tmp_path))
    with pytest.raises(BackupError, match="constitutional_hash"):
        create_set(params(tmp_path, paths=["/etc"], constitutional_hash="nothex"))
    with pytest.raises(BackupError, match="postgresql.format=directory cannot be encrypted"):
        pytest.importorskip("cryptography")
        (tmp_path / "key").write_bytes(os.urandom(32))
        create_set(params(tmp_path, postgresql={"format": "directory"}, encryption_key_file=str(tmp_path / "key")))


def test_compression_level_and_threads(tmp_path, data_tree):
    if not shutil.which("zstd"):
        pytest.skip("zstd is not installed")
    result = create_set(params(tmp_path / "store", paths=[str(data_tree)], compression="zstd", compression_level=5,
                               compression_threads=2))
    manifest = result["manifest"]
    assert (manifest["compression"], manifest["compression_level"], manifest["compression_threads"]) == ("zstd", 5, 2)
    assert result["verification"]["ok"] and list(manifest["files"])[0].endswith(".tar.zst")
    default = create_set(params(tmp_path / "store2", paths=[str(data_tree)], compression="zstd"))["manifest"]
    assert default["compression_level"] == 1 and default["compression_threads"] >= 1
    with pytest.raises(BackupError, match="compression_level must be between 1 and 19 for zstd, not 30"):
        create_set(params(tmp_path / "store", paths=[str(data_tree)], compression="zstd", compression_level=30))
    with pytest.raises(BackupError, match="compression_level must be between 1 and 9 for gzip"):
        create_set(params(tmp_path / "store", paths=[str(data_tree)], compression="gzip", compression_level=0))
    with pytest.raises(BackupError, match="compression_threads"):
        create_set(params(tmp_path / "store", paths=[str(data_tree)], compression="zstd", compression_threads=-1))

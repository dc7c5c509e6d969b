# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup store without servers: streaming checksums, atomic manifests,
leftovers, retention, encryption, verification naming a bad file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import stat
import sys
import time

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _backup as store
from ansible_collections.acgs.platform.plugins.module_utils import _backup_ops as ops


needs_cryptography = pytest.mark.skipif(
    not store.HAS_CRYPTOGRAPHY, reason="the Python library cryptography is not installed (add it to tests/unit/requirements.txt)")


def _params(backup_dir, **extra):
    params = dict(state="present", backup_dir=str(backup_dir), backup_id=None, compression="gzip",
                  encryption_key_file=None, postgresql=None, redis=None, paths=[], verify=True,
                  retention=None, force=False, restore=None, constitutional_hash=None)
    params.update(extra)
    return params


@pytest.fixture
def data_tree(tmp_path):
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    (root / "a.conf").write_text("alpha\n")
    (root / "sub" / "b.bin").write_bytes(os.urandom(3 * store.CHUNK_SIZE + 17))
    os.chmod(str(root / "a.conf"), 0o640)
    return root


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "key"
    path.write_bytes(os.urandom(32))
    return path


def test_pipeline_hashes_stored_bytes_in_one_pass(tmp_path):
    src = tmp_path / "src"
    src.write_bytes(os.urandom(2 * store.CHUNK_SIZE + 5))
    dest = tmp_path / "out"
    result = store.Pipeline(str(dest), "none").run(["cat", str(src)], "cat")
    assert result["size"] == src.stat().st_size
    assert result["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600


def test_pipeline_with_compression_hashes_the_compressed_file(tmp_path):
    src = tmp_path / "src"
    src.write_bytes(b"x" * 100000)
    dest = tmp_path / "out.gz"
    result = store.Pipeline(str(dest), "gzip").run(["cat", str(src)], "cat")
    assert result["size"] == dest.stat().st_size < 100000
    assert result["sha256"] == hashlib.sha256(dest.read_bytes()).hexdigest()


def test_pipeline_callable_producer(tmp_path):
    dest = tmp_path / "out"

    def feed(write):
        for dummy in range(3):
            write(b"abc" * 1000)

    result = store.Pipeline(str(dest), "none").run(feed, "feed")
    assert dest.read_bytes() == b"abc" * 3000
    assert result["size"] == 9000


def test_pipeline_failure_names_the_tool_and_hides_secrets(tmp_path):
    with pytest.raises(store.BackupError) as err:
        store.Pipeline(str(tmp_path / "o"), "none", secrets=["s3cret"]).run(
            [sys.executable, "-c", "import sys; sys.stderr.write('bad s3cret'); sys.exit(3)"], "thing")
    assert "exited with 3" in str(err.value)
    assert "s3cret" not in str(err.value)


@needs_cryptography
def test_encryption_roundtrip_and_wrong_key(tmp_path, key_file):
    key = store.load_key(str(key_file))
    plain = os.urandom(store.CHUNK_SIZE * 2 + 3)
    enc = store.Encryptor(key)
    blob = enc.update(plain[:1000]) + enc.update(plain[1000:]) + enc.finalize()
    dec = store.Decryptor(key, "f")
    out = b"".join(dec.update(blob[i:i + 7777]) for i in range(0, len(blob), 7777))
    dec.finalize()
    assert out == plain
    with pytest.raises(store.BackupError) as err:
        store.Decryptor(os.urandom(32), "f").update(blob)
    assert "wrong encryption key" in str(err.value)
    truncated = store.Decryptor(key, "f")
    truncated.update(blob[:-100])
    with pytest.raises(store.BackupError):
        truncated.finalize()


@needs_cryptography
def test_load_key_formats(tmp_path):
    raw = os.urandom(32)
    (tmp_path / "hex").write_text(raw.hex() + "\n")
    assert store.load_key(str(tmp_path / "hex")) == raw
    (tmp_path / "short").write_text("tooshort")
    with pytest.raises(store.BackupError) as err:
        store.load_key(str(tmp_path / "short"))
    assert "256-bit" in str(err.value)


def test_write_json_atomic_leaves_no_temporary(tmp_path):
    path = tmp_path / "m.json"
    store.write_json_atomic(str(path), {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1}
    assert os.listdir(str(tmp_path)) == ["m.json"]


def test_paths_set_verify_and_restore_elsewhere(tmp_path, data_tree):
    backup_dir = tmp_path / "store"
    result = ops.create_set(_params(backup_dir, paths=[str(data_tree)]))
    assert result["changed"] and result["verification"]["ok"]
    manifest = result["manifest"]
    assert manifest["backup_id"].startswith("backup-")
    assert manifest["constitutional_hash"] == "cdd01ef066bc6cf2"
    (name, entry), = manifest["files"].items()
    stored = backup_dir / manifest["backup_id"] / name
    assert entry["sha256"] == hashlib.sha256(stored.read_bytes()).hexdigest()
    assert stat.S_IMODE((backup_dir / manifest["backup_id"]).stat().st_mode) == 0o700
    sets, leftovers = ops.info(str(backup_dir))
    assert [s["backup_id"] for s in sets] == [manifest["backup_id"]] and sets[0]["verified"] is True
    assert leftovers == []
    root = tmp_path / "restore-root"
    restored = ops.restore_set(_params(backup_dir, state="restored", restore=dict(paths_root=str(root))))
    copy = root / str(data_tree).lstrip("/")
    assert (copy / "sub" / "b.bin").read_bytes() == (data_tree / "sub" / "b.bin").read_bytes()
    assert stat.S_IMODE((copy / "a.conf").stat().st_mode) == 0o640
    assert restored["restored"]["paths"][0]["files"] == 2
    with pytest.raises(store.BackupError) as err:
        ops.restore_set(_params(backup_dir, state="restored", restore=dict(paths_root=str(root))))
    assert "non-empty target" in str(err.value)
    ops.restore_set(_params(backup_dir, state="restored", force=True, restore=dict(paths_root=str(root))))


def test_flipped_byte_is_named_and_restore_refused(tmp_path, data_tree):
    backup_dir = tmp_path / "store"
    result = ops.create_set(_params(backup_dir, paths=[str(data_tree)]))
    (name, entry), = result["manifest"]["files"].items()
    path = backup_dir / result["backup_id"] / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    verification = ops.verify_set(_params(backup_dir, state="verified"))
    assert not verification["ok"]
    assert verification["bad_files"] == [name]
    assert "sha256 mismatch" in verification["files"][name]["error"]
    with pytest.raises(store.BackupError) as err:
        ops.restore_set(_params(backup_dir, state="restored", restore=dict(paths_root=str(tmp_path / "r"))))
    assert "fails verification" in str(err.value) and name in str(err.value)
    assert not (tmp_path / "r").exists()


@needs_cryptography
def test_encrypted_set_and_wrong_key(tmp_path, data_tree, key_file):
    backup_dir = tmp_path / "store"
    result = ops.create_set(_params(backup_dir, paths=[str(data_tree)], encryption_key_file=str(key_file)))
    assert result["verification"]["ok"]
    assert result["manifest"]["encryption"]["key_fingerprint"]
    (name, entry), = result["manifest"]["files"].items()
    assert name.endswith(".enc") and entry["encrypted"]
    assert b"alpha" not in (backup_dir / result["backup_id"] / name).read_bytes()
    other = tmp_path / "other"
    other.write_bytes(os.urandom(32))
    with pytest.raises(store.BackupError) as err:
        ops.verify_set(_params(backup_dir, state="verified", encryption_key_file=str(other)))
    assert "wrong encryption key" in str(err.value)
    with pytest.raises(store.BackupError) as err:
        ops.verify_set(_params(backup_dir, state="verified"))
    assert "encryption_key_file is required" in str(err.value)


def test_incomplete_sets_are_not_listed_and_removed_by_next_run(tmp_path, data_tree):
    backup_dir = tmp_path / "store"
    backup_dir.mkdir()
    partial = backup_dir / ".backup-100.partial"
    (partial / "postgresql").mkdir(parents=True)
    (partial / "postgresql" / "acgs.dump").write_bytes(b"half")
    broken = backup_dir / "backup-200"
    broken.mkdir()
    (broken / "manifest.json").write_text('{"backup_id": "backup-200", "files": {}')
    assert store.list_sets(str(backup_dir)) == []
    assert sorted(ops.info(str(backup_dir))[1]) == [".backup-100.partial", "backup-200"]
    with pytest.raises(store.BackupError):
        store.select_set(str(backup_dir))
    result = ops.create_set(_params(backup_dir, paths=[str(data_tree)]))
    assert sorted(result["leftovers_removed"]) == [".backup-100.partial", "backup-200"]
    assert not partial.exists() and not broken.exists()


def _fake_set(backup_dir, epoch, verified=None):
    set_dir = backup_dir / ("backup-%d" % epoch)
    set_dir.mkdir(parents=True)
    store.write_json_atomic(str(set_dir / "manifest.json"), {
        "backup_id": set_dir.name, "created_epoch": epoch, "files": {}, "components": {}, "complete": True})
    if verified is not None:
        store.write_json_atomic(str(set_dir / "verification.json"), {"ok": verified})


def test_retention_keep_last_and_age_never_drop_newest_verified(tmp_path):
    now = time.time()
    day = 86400
    backup_dir = tmp_path / "store"
    _fake_set(backup_dir, int(now - 40 * day), verified=True)
    _fake_set(backup_dir, int(now - 35 * day))
    _fake_set(backup_dir, int(now - 2 * day), verified=False)
    _fake_set(backup_dir, int(now - 1 * day))
    sets = store.list_sets(str(backup_dir))
    ids = [s["backup_id"] for s in sets]
    assert ids == sorted(ids, reverse=True)
    # 30 days: the 35-day set goes, the 40-day set stays (newest verified)
    assert store.plan_retention(sets, max_age_days=30, now=now) == [ids[2]]
    assert store.plan_retention(sets, keep_last=1, now=now) == [ids[1], ids[2]]
    assert store.plan_retention(sets, now=now) == []
    result = ops.remove_sets(_params(backup_dir, state="absent", retention=dict(keep_last=2, max_age_days=None)))
    assert result["removed"] == [ids[2]] and result["changed"]
    assert [s["backup_id"] for s in store.list_sets(str(backup_dir))] == [ids[0], ids[1], ids[3]]


def test_retention_without_verified_set_keeps_the_newest(tmp_path):
    now = time.time()
    backup_dir = tmp_path / "store"
    for age in (50, 40):
        _fake_set(backup_dir, int(now - age * 86400))
    sets = store.list_sets(str(backup_dir))
    assert store.plan_retention(sets, max_age_days=30, now=now) == [sets[1]["backup_id"]]


def test_absent_and_check_mode(tmp_path, data_tree):
    backup_dir = tmp_path / "store"
    assert ops.create_set(_params(backup_dir, paths=[str(data_tree)]), check_mode=True)["changed"]
    assert not backup_dir.exists()
    backup_id = ops.create_set(_params(backup_dir, paths=[str(data_tree)]))["backup_id"]
    assert ops.remove_sets(_params(backup_dir, state="absent", backup_id=backup_id), check_mode=True)["removed"] == [backup_id]
    assert (backup_dir / backup_id).exists()
    assert ops.remove_sets(_params(backup_dir, state="absent", backup_id=backup_id))["changed"]
    assert not ops.remove_sets(_params(backup_dir, state="absent", backup_id=backup_id))["changed"]
    with pytest.raises(store.BackupError):
        ops.remove_sets(_params(backup_dir, state="absent", backup_id="../etc"))


def test_new_backup_id_is_unique(tmp_path):
    (tmp_path / "backup-5").mkdir()
    (tmp_path / ".backup-6.partial").mkdir()
    assert store.new_backup_id(str(tmp_path), now=5) == "backup-7"


def test_bad_input_names_the_parameter(tmp_path):
    with pytest.raises(store.BackupError) as err:
        ops.create_set(_params(tmp_path))
    assert "component" in str(err.value)
    with pytest.raises(store.BackupError) as err:
        ops.create_set(_params(tmp_path, paths=["/etc"], constitutional_hash="nothex"))
    assert "constitutional_hash" in str(err.value)
    with pytest.raises(store.BackupError) as err:
        store.select_set(str(tmp_path), "backup-x")
    assert "backup_id" in str(err.value)

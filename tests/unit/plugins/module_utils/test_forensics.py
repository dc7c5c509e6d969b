# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""acgs_forensics's logic: redaction by value and by key, the release check, the bundle with its manifest and
checksum, read back with tarfile and sha256 as an investigator would; the module itself runs on the live stack
in the security_incident target."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
import os
import stat
import subprocess
import tarfile

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _forensics as forensics
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError

PG = "LFPWkpQWqR31NdxqGAyw+aNq/jQp7t8w"
REDIS = "s3cr3t-redis-Pa55"


@pytest.fixture
def redactor():
    return forensics.Redactor([PG, REDIS])


def test_values_are_redacted_wherever_they_occur_and_in_their_encoded_forms(redactor):
    text = "dsn=postgresql://acgs@db/acgs?x=%s log: auth with %s failed; url-encoded %s b64 %s json %s" % (
        PG, REDIS, "LFPWkpQWqR31NdxqGAyw%2BaNq%2FjQp7t8w", base64.b64encode(PG.encode()).decode(), json.dumps(PG))
    out, count = redactor.redact(text)
    assert PG not in out and REDIS not in out and "%2BaNq%2F" not in out and base64.b64encode(PG.encode()).decode() not in out
    assert count >= 5
    assert out.count(forensics.REDACTED) >= 5


def test_a_secret_containing_another_is_replaced_whole():
    out, count = forensics.Redactor(["abcd", "xxabcdyy"]).redact("v=xxabcdyy w=abcd")
    assert out == "v=[REDACTED] w=[REDACTED]" and count == 2


@pytest.mark.parametrize("line, kept", [
    ('{"login_password": "not-a-listed-secret", "login_user": "acgs"}', '"login_user": "acgs"'),
    ('    "api_key":"k\\"ey", "port": 5432', '"port": 5432'),
    ("PGPASSWORD=hunter22\nPATH=/usr/bin", "PATH=/usr/bin"),
    ("python3 app.py --db-password hunter22 --port 18004", "--port 18004"),
    ("python3 app.py --token=abc.def.ghi --verbose", "--verbose"),
    ("redis_password: 'hunter22'\nredis_port: 6379", "redis_port: 6379"),
    ("X-Auth-Token: eyJhbGciOi.x.y\nHost: a", "Host: a"),
    ("amqp://guest:hunter22@broker:5672/", "amqp://guest:"),
    ("secret = \"two words\"; other=1", "other=1"),
])
def test_values_of_secret_keys_are_redacted_other_values_kept(line, kept):
    out, count = forensics.Redactor([]).redact(line)
    assert count == 1, out
    assert "hunter22" not in out and "not-a-listed-secret" not in out and "abc.def" not in out and "two words" not in out
    assert "eyJhbGciOi" not in out and 'k\\"ey' not in out
    assert forensics.REDACTED in out and kept in out


def test_words_that_only_look_like_keys_are_kept():
    text = "auth-service 8000 healthy\npasswords rotated by the operator\nsecret_names: [a, b]\ntoken_count 3"
    out, count = forensics.Redactor([]).redact(text)
    assert out == text and count == 0


def test_pem_private_keys_are_redacted_certificates_kept():
    text = ("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nabc\n-----END RSA PRIVATE KEY-----\n")
    out, count = forensics.Redactor([]).redact(text)
    assert "MIIEpAIBAAKCAQEA" not in out and "MIIB" in out and count == 1


def test_already_redacted_values_are_not_counted_twice(redactor):
    out, count = redactor.redact('{"login_password": "%s"}' % PG)
    assert out == '{"login_password": "[REDACTED]"}' and count == 1


def test_bytes_that_are_not_utf8_survive_redaction(redactor):
    data = b"\xff\xfe binary " + PG.encode() + b" \x00\x80"
    out, count = redactor.redact_bytes(data)
    assert out == b"\xff\xfe binary [REDACTED] \x00\x80" and count == 1


def test_short_secrets_are_not_redacted_by_value_and_bad_key_patterns_fail():
    assert forensics.Redactor(["ab"]).ignored == 1
    with pytest.raises(OperatorError, match="not a regular expression"):
        forensics.Redactor([], "(")
    with pytest.raises(OperatorError, match="empty string"):
        forensics.Redactor([], ".*")


def _release(tmp_path):
    path = tmp_path / "releases" / "gs-service" / "0.1.0"
    path.mkdir(parents=True)
    (path / "acgs_service.py").write_bytes(b"print('hi')\n")
    files = {"acgs_service.py": hashlib.sha256(b"print('hi')\n").hexdigest(), "service.json.j2": "0" * 64}
    (path / "release.json").write_text(json.dumps({"version": "0.1.0", "files": files}))
    config = tmp_path / "gs-service-blue.json"
    config.write_text("{}")
    os.chmod(str(config), 0o640)
    return path, files, {"service": "gs-service", "slot": "blue", "release": "0.1.0", "path": str(path), "config": str(config)}


def test_release_check_of_an_intact_release(tmp_path):
    path, files, entry = _release(tmp_path)
    result = forensics.release_check(dict(entry, expected=files))
    assert result["checked"] and result["intact"] and result["store_matches"] is True
    assert result["modified"] == [] and result["unexpected"] == [] and result["absent"] == ["service.json.j2"]
    assert result["config"]["mode"] == "0640" and result["config"]["sha256"] == hashlib.sha256(b"{}").hexdigest()


def test_release_check_finds_a_modified_file_an_unexpected_one_and_a_rewritten_release_json(tmp_path):
    path, files, entry = _release(tmp_path)
    (path / "acgs_service.py").write_bytes(b"import os; os.system('curl evil')\n")
    (path / "__pycache__").mkdir()
    (path / "__pycache__" / "x.pyc").write_bytes(b"\x00")
    assert forensics.release_check(entry)["modified"] == ["acgs_service.py"]
    # the attacker also rewrote release.json: only the store's checksums show it
    forged = dict(files, **{"acgs_service.py": hashlib.sha256(b"import os; os.system('curl evil')\n").hexdigest()})
    (path / "release.json").write_text(json.dumps({"files": forged}))
    alone = forensics.release_check(entry)
    assert alone["modified"] == [] and alone["unexpected"] == ["__pycache__/x.pyc"] and not alone["intact"]
    result = forensics.release_check(dict(entry, expected=files))
    assert result["store_matches"] is False and result["modified"] == ["acgs_service.py"] and not result["intact"]


def test_release_check_without_release_json_says_why(tmp_path):
    result = forensics.release_check({"service": "x", "slot": "blue", "release": "1", "path": str(tmp_path / "none")})
    assert not result["checked"] and "cannot read" in result["reason"]


def _staging(tmp_path):
    staging = tmp_path / "staging"
    (staging / "programs" / "acgs-gs-service-blue").mkdir(parents=True)
    (staging / "programs" / "acgs-gs-service-blue" / "config.json").write_text(json.dumps(
        {"dependencies": [{"login_password": PG, "name": "postgresql"}], "name": "gs-service"}, indent=2))
    (staging / "programs" / "acgs-gs-service-blue" / "environ.txt").write_text("HOME=/home/acgs\nREDIS_PASSWORD=%s\n" % REDIS)
    (staging / "programs" / "acgs-gs-service-blue" / "log-tail.txt").write_text("ERROR connect failed for acgs/%s@db\n" % PG)
    (staging / "host").mkdir()
    (staging / "host" / "packages.txt").write_text("haproxy\t2.6.12-1\n")
    return staging


def test_bundle_is_private_verifies_and_holds_no_secret(tmp_path):
    staging = _staging(tmp_path)
    members = forensics.plan_members(str(staging), forensics.Redactor([PG, REDIS]))
    bundle = str(tmp_path / "forensics-localhost.tar.gz")
    written = forensics.build_bundle(members, bundle, "incident-1")
    assert stat.S_IMODE(os.stat(bundle).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(bundle + ".sha256").st_mode) == 0o600
    # as an investigator checks it: sha256sum -c beside the bundle, then the manifest inside
    assert subprocess.call(["sha256sum", "--quiet", "-c", "forensics-localhost.tar.gz.sha256"], cwd=str(tmp_path)) == 0
    out = tmp_path / "out"
    with tarfile.open(bundle) as archive:
        names = archive.getnames()
        archive.extractall(str(out))
    assert sorted(names) == sorted(["incident-1/" + m["path"] for m in members] + ["incident-1/MANIFEST.sha256"])
    assert subprocess.call(["sha256sum", "--quiet", "-c", "MANIFEST.sha256"], cwd=str(out / "incident-1")) == 0
    for base, _dirs, files in os.walk(str(out)):
        for name in files:
            with open(os.path.join(base, name), "rb") as handle:
                data = handle.read()
            assert PG.encode() not in data and REDIS.encode() not in data
    config = json.loads((out / "incident-1" / "programs" / "acgs-gs-service-blue" / "config.json").read_text())
    assert config["dependencies"][0]["login_password"] == forensics.REDACTED and config["name"] == "gs-service"
    assert forensics.verify_bundle(bundle, forbidden=[PG, REDIS]) == {"sha256": written["sha256"], "members": 4, "verified": True}


def test_verify_bundle_catches_a_changed_bundle_and_a_secret(tmp_path):
    staging = _staging(tmp_path)
    bundle = str(tmp_path / "b.tar.gz")
    forensics.build_bundle(forensics.plan_members(str(staging), forensics.Redactor([])), bundle, "b")
    with pytest.raises(OperatorError, match="holds a secret"):
        forensics.verify_bundle(bundle, forbidden=[PG])
    with open(bundle, "ab") as handle:
        handle.write(b"\x00")
    with pytest.raises(OperatorError, match="says"):
        forensics.verify_bundle(bundle)


def test_a_staged_file_named_like_the_manifest_is_refused(tmp_path):
    staging = _staging(tmp_path)
    (staging / forensics.MANIFEST).write_text("")
    with pytest.raises(OperatorError, match="manifest"):
        forensics.plan_members(str(staging), forensics.Redactor([]))


def test_manifest_round_trip_and_bad_lines():
    members = [{"path": "b", "sha256": "1" * 64}, {"path": "a b", "sha256": "2" * 64}]
    text = forensics.manifest_text(members)
    assert text.splitlines()[0].endswith("  a b")
    assert forensics.parse_manifest(text) == {"a b": "2" * 64, "b": "1" * 64}
    with pytest.raises(OperatorError, match="line 1"):
        forensics.parse_manifest("nothex  x\n")


def test_documents_are_redacted_and_added_and_bad_paths_refused(tmp_path):
    staging = _staging(tmp_path)
    redactor = forensics.Redactor([PG])
    members = forensics.add_documents(forensics.plan_members(str(staging), redactor), {"haproxy-lb1.txt": "stats %s\n" % PG}, redactor)
    added = [m for m in members if m["path"] == "haproxy-lb1.txt"][0]
    assert added["data"] == b"stats [REDACTED]\n" and added["redactions"] == 1
    assert [m["path"] for m in members] == sorted(m["path"] for m in members)
    for bad in ("../x", "/etc/x", "a/../../x", forensics.MANIFEST, "host/packages.txt"):
        with pytest.raises(OperatorError, match="documents"):
            forensics.add_documents(forensics.plan_members(str(staging), redactor), {bad: "x"}, redactor)

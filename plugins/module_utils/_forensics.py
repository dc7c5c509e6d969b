# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the forensic bundle of a security incident (acgs_forensics).

- ``Redactor``: secrets out of collected text, by value (the platform's passwords, also JSON-escaped,
  URL-encoded and base64) and by key (``password=...``, ``"token": "..."``, ``--secret X``,
  ``scheme://user:password@``, PEM private keys);
- ``release_check``: a release directory's files against its ``release.json`` (and the release store's);
- ``build_bundle``: every collected file redacted into a tar.gz (mode 0600) with a sha256 manifest of its
  members, the bundle's own sha256 written beside it (``sha256sum -c`` format);
- ``verify_bundle``: the manifest and the checksum file checked again (tests, and the module's own check).
Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import io
import json
import os
import re
import shutil
import stat as stat_module
import tarfile
import tempfile
import time

from urllib.parse import quote, quote_plus

from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError

REDACTED = "[REDACTED]"
MANIFEST = "MANIFEST.sha256"
# Names of keys whose values are secrets (case-insensitive, as part of a longer name too:
# login_password, PGPASSWORD, X-Auth-Token, aws_secret_access_key, api-key).
DEFAULT_KEY_PATTERN = (r"[A-Za-z0-9_.-]*(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key"
                       r"|private[_-]?key|credentials?)[A-Za-z0-9_.-]*")
# Shorter values are not redacted by value (they would match everywhere); keys still catch them.
MIN_SECRET_LENGTH = 4


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def secret_variants(secret):
    """The forms a secret may take in collected text: itself, JSON-escaped, URL-encoded, base64."""
    variants = set([secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret, safe="")])
    variants.add(base64.b64encode(secret.encode("utf-8")).decode("ascii").rstrip("="))
    return set(v for v in variants if len(v) >= MIN_SECRET_LENGTH)


class Redactor(object):
    """Replaces secrets in text with ``[REDACTED]``; ``redact`` returns the text and how many it replaced."""

    def __init__(self, secrets=(), key_pattern=DEFAULT_KEY_PATTERN):
        try:
            key = re.compile(key_pattern)
        except re.error as err:
            raise OperatorError("redact_keys: %r is not a regular expression: %s" % (key_pattern, err))
        if key.match(""):
            raise OperatorError("redact_keys: %r matches the empty string, it would redact every value" % (key_pattern,))
        values = set()
        self.ignored = 0
        for secret in secrets or ():
            if secret is None or secret == "":
                continue
            if len(secret) < MIN_SECRET_LENGTH:
                self.ignored += 1
                continue
            values |= secret_variants(secret)
        # Longest first, so that a secret containing another is replaced whole.
        self._values = re.compile("|".join(re.escape(v) for v in sorted(values, key=lambda v: (-len(v), v)))) if values else None
        k = "(?i:%s)" % key_pattern
        self._rules = [
            # PEM private keys, whole blocks
            re.compile(r"(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----)(.*?)(-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----)", re.S),
            # scheme://user:password@host
            re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)([^\s@/]+)(@)"),
            # JSON: "login_password": "..."
            re.compile(r'("%s"\s*:\s*)("(?:[^"\\]|\\.)*")()' % k),
            # command lines: --password X, --password=X
            re.compile(r"(--%s(?:=|[ \t]+))([^\s-][^\s]*|-[^\s-][^\s]*)()" % k),
            # environment, ini, URLs' queries: PGPASSWORD=X, token='X'
            re.compile(r"((?<![A-Za-z0-9_.-])%s[ \t]*=[ \t]*)(\"[^\"\n]*\"|'[^'\n]*'|[^\s&;,]+)()" % k),
            # YAML and headers: password: X, X-Auth-Token: X
            re.compile(r"(^[ \t-]*[\"']?%s[\"']?[ \t]*:[ \t]+)([^\s{\[].*?)()[ \t]*$" % k, re.M),
        ]

    def redact(self, text):
        count = [0]

        def value(match):
            count[0] += 1
            return REDACTED

        if self._values is not None:
            text = self._values.sub(value, text)

        def keyed(match):
            old = match.group(2)
            quote_char = old[0] if old[:1] in ('"', "'") and old[-1:] == old[:1] and len(old) > 1 else ""
            inner = old[1:-1] if quote_char else old
            if REDACTED in inner or inner.strip() == "":
                return match.group(0)
            count[0] += 1
            return match.group(1) + quote_char + REDACTED + quote_char + match.group(3)

        for rule in self._rules:
            text = rule.sub(keyed, text)
        return text, count[0]

    def redact_bytes(self, data):
        text, count = self.redact(data.decode("utf-8", "surrogateescape"))
        return text.encode("utf-8", "surrogateescape"), count


def _file_facts(path):
    try:
        info = os.lstat(path)
    except OSError:
        return {"exists": False}
    facts = {"exists": True, "mode": "%04o" % stat_module.S_IMODE(info.st_mode), "uid": info.st_uid, "gid": info.st_gid,
             "bytes": info.st_size, "mtime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(info.st_mtime))}
    if stat_module.S_ISREG(info.st_mode):
        facts["sha256"] = sha256_file(path)
    return facts


def release_check(entry):
    """One slot's release directory against its release.json (and the release store's, ``expected``).

    ``entry``: service, slot, release, path (the installed release directory), config (the slot's
    configuration file), expected (the store's ``files``: name -> sha256; optional). Returns
    ``{service, slot, release, path, checked, intact, modified, absent, unexpected, store_matches, files, config}``:
    ``modified`` (a listed file whose sha256 differs), ``unexpected`` (a file the release does not list),
    ``absent`` (listed but not installed: the installer copies only what runs), ``store_matches``
    (the installed release.json lists the store's checksums; None without ``expected``).
    """
    path = entry["path"]
    result = {"service": entry.get("service"), "slot": entry.get("slot"), "release": entry.get("release"), "path": path,
              "checked": False, "intact": False, "modified": [], "absent": [], "unexpected": [], "store_matches": None,
              "files": {}, "config": _file_facts(entry["config"]) if entry.get("config") else None, "reason": ""}
    release_json = os.path.join(path, "release.json")
    try:
        with open(release_json) as handle:
            listed = json.load(handle).get("files") or {}
        if not isinstance(listed, dict):
            raise ValueError("files is not a mapping")
    except (IOError, OSError) as err:
        result["reason"] = "cannot read %s: %s" % (release_json, err.strerror)
        return result
    except ValueError as err:
        result["reason"] = "%s is not a release description: %s" % (release_json, err)
        return result
    expected = entry.get("expected")
    if expected is not None:
        result["store_matches"] = dict(listed) == dict(expected)
    reference = dict(expected) if expected is not None else dict(listed)
    for name in sorted(reference):
        full = os.path.join(path, name)
        if not os.path.isfile(full):
            result["absent"].append(name)
            continue
        actual = sha256_file(full)
        result["files"][name] = actual
        if actual != reference[name]:
            result["modified"].append(name)
    for base, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            rel = os.path.relpath(os.path.join(base, name), path)
            if rel != "release.json" and rel not in reference:
                result["unexpected"].append(rel)
    result["checked"] = True
    result["intact"] = not result["modified"] and not result["unexpected"] and result["store_matches"] is not False
    return result


def staged_files(staging):
    """Relative paths of the regular files under ``staging``, sorted (symlinks and others are skipped)."""
    found = []
    for base, dirs, files in os.walk(staging):
        dirs.sort()
        for name in files:
            full = os.path.join(base, name)
            if os.path.isfile(full) and not os.path.islink(full):
                found.append(os.path.relpath(full, staging))
    return sorted(found)


def manifest_text(members):
    """``sha256sum -c`` lines for ``[{path, sha256}]``, sorted by path."""
    return "".join("%s  %s\n" % (m["sha256"], m["path"]) for m in sorted(members, key=lambda m: m["path"]))


def parse_manifest(text):
    entries = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = re.match(r"^([0-9a-f]{64})  (.+)$", line)
        if not match:
            raise OperatorError("%s line %d is not '<sha256>  <path>': %r" % (MANIFEST, number, line[:120]))
        entries[match.group(2)] = match.group(1)
    return entries


def add_documents(members, documents, redactor):
    """``members`` with each of ``documents`` (path -> text) redacted and added, sorted by path."""
    known = set(m["path"] for m in members)
    for path in sorted(documents):
        clean = os.path.normpath(path)
        if clean != path or clean.startswith(("/", "..")) or path == MANIFEST:
            raise OperatorError("documents: %r is not a relative path inside the bundle (or is the manifest)" % (path,))
        if path in known:
            raise OperatorError("documents: %s is also a collected file" % path)
        data, count = redactor.redact_bytes(documents[path].encode("utf-8", "surrogateescape"))
        members.append({"path": path, "data": data, "sha256": sha256_bytes(data), "bytes": len(data), "redactions": count})
    return sorted(members, key=lambda m: m["path"])


def _tarinfo(name, size, mtime):
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def _atomic_write(path, data, mode=0o600):
    directory = os.path.dirname(path) or "."
    handle, tmp = tempfile.mkstemp(prefix=".acgs-forensics-", dir=directory)
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.rename(tmp, path)
    except OSError as err:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise OperatorError("cannot write %s: %s" % (path, err.strerror))


def plan_members(staging, redactor):
    """Every staged file redacted, in memory: [{path, data, sha256, bytes, redactions}]."""
    members = []
    for rel in staged_files(staging):
        if rel == MANIFEST:
            raise OperatorError("staging: %s is the bundle's own manifest; collect it under another name" % MANIFEST)
        with open(os.path.join(staging, rel), "rb") as handle:
            data, count = redactor.redact_bytes(handle.read())
        members.append({"path": rel, "data": data, "sha256": sha256_bytes(data), "bytes": len(data), "redactions": count})
    return members


def build_bundle(members, bundle, top, now=None):
    """Writes ``bundle`` (tar.gz, mode 0600) holding ``top/<path>`` for each member and ``top/MANIFEST.sha256``,
    and ``bundle.sha256`` beside it. Returns ``{bundle, sha256, bytes, checksum_file, manifest}``."""
    mtime = int(now if now is not None else time.time())
    manifest = manifest_text(members).encode("utf-8")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for member in members:
            archive.addfile(_tarinfo("%s/%s" % (top, member["path"]), len(member["data"]), mtime), io.BytesIO(member["data"]))
        archive.addfile(_tarinfo("%s/%s" % (top, MANIFEST), len(manifest), mtime), io.BytesIO(manifest))
    data = buffer.getvalue()
    _atomic_write(bundle, data)
    digest = sha256_bytes(data)
    checksum_file = bundle + ".sha256"
    _atomic_write(checksum_file, ("%s  %s\n" % (digest, os.path.basename(bundle))).encode("utf-8"))
    return {"bundle": bundle, "sha256": digest, "bytes": len(data), "checksum_file": checksum_file,
            "manifest": "%s/%s" % (top, MANIFEST)}


def verify_bundle(bundle, forbidden=()):
    """Checks ``bundle`` against its ``.sha256`` file and every member against the manifest, and that no
    ``forbidden`` string occurs in a member. Returns ``{sha256, members, verified}``; raises OperatorError."""
    checksum_file = bundle + ".sha256"
    try:
        with open(checksum_file) as handle:
            recorded = handle.read().split()
    except (IOError, OSError) as err:
        raise OperatorError("cannot read %s: %s" % (checksum_file, err.strerror))
    actual = sha256_file(bundle)
    if not recorded or recorded[0] != actual or recorded[1:] != [os.path.basename(bundle)]:
        raise OperatorError("%s: sha256 %s, %s says %s" % (bundle, actual, checksum_file, " ".join(recorded)))
    contents = {}
    with tarfile.open(bundle, "r:gz") as archive:
        for info in archive.getmembers():
            if not info.isfile():
                raise OperatorError("%s: member %s is not a regular file" % (bundle, info.name))
            contents[info.name] = archive.extractfile(info).read()
    manifests = [name for name in contents if name.endswith("/" + MANIFEST)]
    if len(manifests) != 1:
        raise OperatorError("%s: %d manifests (%s)" % (bundle, len(manifests), ", ".join(manifests)))
    top = manifests[0][:-len(MANIFEST) - 1]
    listed = parse_manifest(contents.pop(manifests[0]).decode("utf-8"))
    present = dict((name[len(top) + 1:], data) for name, data in contents.items())
    if sorted(present) != sorted(listed):
        raise OperatorError("%s: members %s but the manifest lists %s" % (
            bundle, sorted(set(present) - set(listed)), sorted(set(listed) - set(present))))
    for name, data in present.items():
        if sha256_bytes(data) != listed[name]:
            raise OperatorError("%s: %s does not match the manifest" % (bundle, name))
        for secret in forbidden:
            if secret and secret.encode("utf-8") in data:
                raise OperatorError("%s: %s holds a secret" % (bundle, name))
    return {"sha256": actual, "members": len(present), "verified": True}


def remove_tree(path):
    try:
        shutil.rmtree(path)
    except OSError as err:
        if err.errno != 2:
            raise OperatorError("cannot remove %s: %s" % (path, err.strerror))

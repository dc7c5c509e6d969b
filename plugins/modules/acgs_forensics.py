#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: acgs_forensics
short_description: The forensic bundle of a security incident - redacted, with a sha256 manifest and its own checksum
version_added: 0.1.0
description:
  - Turns a directory of collected evidence (O(staging), written by stock commands - C(ps), C(ss), C(lsof),
    C(/proc), logs) into one tar.gz, O(bundle), of mode 0600, for the chain of custody of a security incident.
  - 'Every file is redacted on its way into the bundle - the O(secrets) by value (also JSON-escaped, URL-encoded
    and base64), and any value whose key matches O(redact_keys) (C(PGPASSWORD=...), C("login_password": "..."),
    C(--token X), C(password: X), C(scheme://user:password@), PEM private keys) - as C([REDACTED]).'
  - With O(releases), each slot's installed release directory is first compared with its C(release.json) and
    the release store's checksums (O(releases[].expected)), and its configuration file's checksum and mode taken;
    the result goes into the bundle as C(release-check.json) and into the module's result.
  - The bundle holds C(<top>/MANIFEST.sha256) (C(sha256sum -c) format) with the sha256 of every other member;
    the bundle's own sha256 is written beside it as C(<bundle>.sha256). The module then verifies both.
  - O(staging) is removed afterwards (the unredacted evidence does not stay on disk), unless O(keep_staging).
  - An existing O(bundle) is never overwritten - the module reports it unchanged.
author:
  - ACGS Operations Team (@acgs)
attributes:
  check_mode:
    support: full
    description: Compares the releases and redacts in memory; reports the members and redactions; writes and removes nothing.
  diff_mode:
    support: none
    description: No diff is returned.
options:
  staging:
    description: Directory of the collected files (read recursively; symbolic links are skipped).
    type: path
    required: true
  bundle:
    description: The tar.gz to write; its directory must exist.
    type: path
    required: true
  top:
    description: Top directory of the members inside the archive; default the bundle's name without C(.tar.gz).
    type: str
  secrets:
    description: Values to redact wherever they occur (the platform's passwords). Values shorter than 4 characters are not redacted by value.
    type: list
    elements: str
    default: []
  redact_keys:
    description: Regular expression (case-insensitive) of key names whose values are redacted.
    type: str
    default: '[A-Za-z0-9_.-]*(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)[A-Za-z0-9_.-]*'
  releases:
    description: The slots whose installed release to compare with the deployed release.
    type: list
    elements: dict
    default: []
    suboptions:
      service:
        description: The service.
        type: str
        required: true
      slot:
        description: The slot (blue, green).
        type: str
        required: true
      release:
        description: The release the deploy state says the slot runs.
        type: str
        required: true
      path:
        description: The installed release directory (with its C(release.json)).
        type: path
        required: true
      config:
        description: The slot's configuration file (checksum, mode, owner; its content is collected in O(staging)).
        type: path
      expected:
        description: The release store's C(files) (name to sha256); without it the installed C(release.json) is the reference.
        type: dict
  documents:
    description:
      - More members, given as text - path inside the bundle to content (for example what other hosts collected,
        or a check's result). They are redacted like the staged files; a path that is also a staged file is refused.
    type: dict
    default: {}
  keep_staging:
    description: Keep O(staging) after bundling (it holds the unredacted evidence).
    type: bool
    default: false
seealso:
  - module: acgs.platform.acgs_shutdown
  - module: acgs.platform.acgs_haproxy_map
"""

EXAMPLES = r"""
- name: Bundle what was collected, redacting the platform's passwords
  acgs.platform.acgs_forensics:
    staging: /var/lib/acgs-results/incidents/incident-20261128T061500Z/staging
    bundle: /var/lib/acgs-results/incidents/incident-20261128T061500Z/forensics-localhost.tar.gz
    secrets: ["{{ acgs_postgresql_password }}", "{{ acgs_redis_password }}"]
    documents:
      haproxy-lb1.txt: "{{ haproxy_view.stdout }}"
    releases:
      - service: gs-service
        slot: blue
        release: 0.1.0
        path: /opt/acgs/releases/gs-service/0.1.0
        config: /etc/acgs/services/gs-service-blue.json
  register: forensics
"""

RETURN = r"""
bundle:
  description: The bundle's path.
  returned: always
  type: str
sha256:
  description: The bundle's sha256 (also in RV(checksum_file)); empty in check mode.
  returned: always
  type: str
checksum_file:
  description: The file beside the bundle holding its sha256 (C(sha256sum -c) format).
  returned: always
  type: str
bytes:
  description: The bundle's size.
  returned: always
  type: int
members:
  description: Every member but the manifest, with its sha256 after redaction and how many values were redacted.
  returned: always
  type: list
  elements: dict
  sample: [{path: programs/acgs-gs-service-blue/config.json, sha256: 5d41..., bytes: 866, redactions: 2}]
redactions:
  description: Values redacted in all.
  returned: always
  type: int
releases:
  description: Each slot's release check (service, slot, release, path, checked, intact, modified, absent, unexpected, store_matches, files, config).
  returned: always
  type: list
  elements: dict
intact:
  description: Whether every checked release is intact (no modified or unexpected file, release.json as the store's).
  returned: always
  type: bool
verified:
  description: Whether the bundle was read back and its checksum file and manifest verified.
  returned: always
  type: bool
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.acgs.platform.plugins.module_utils import _forensics as forensics
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            staging=dict(type="path", required=True),
            bundle=dict(type="path", required=True),
            top=dict(type="str"),
            secrets=dict(type="list", elements="str", default=[], no_log=True),
            redact_keys=dict(type="str", default=forensics.DEFAULT_KEY_PATTERN, no_log=False),
            releases=dict(type="list", elements="dict", default=[], options=dict(
                service=dict(type="str", required=True),
                slot=dict(type="str", required=True),
                release=dict(type="str", required=True),
                path=dict(type="path", required=True),
                config=dict(type="path"),
                expected=dict(type="dict"),
            )),
            documents=dict(type="dict", default={}),
            keep_staging=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    bundle = params["bundle"]
    top = params["top"] or os.path.basename(bundle).replace(".tar.gz", "").replace(".tgz", "")
    result = {"bundle": bundle, "sha256": "", "checksum_file": bundle + ".sha256", "bytes": 0, "members": [],
              "redactions": 0, "releases": [], "intact": True, "verified": False}
    try:
        if os.path.exists(bundle):
            verified = forensics.verify_bundle(bundle)
            result.update(sha256=verified["sha256"], bytes=os.path.getsize(bundle), verified=True)
            module.exit_json(changed=False, msg="%s exists (sha256 %s): an incident's bundle is never overwritten" % (
                bundle, verified["sha256"]), **result)
        if not os.path.isdir(os.path.dirname(bundle) or "."):
            raise OperatorError("bundle: the directory of %s does not exist" % bundle)
        if not os.path.isdir(params["staging"]):
            raise OperatorError("staging: %s is not a directory" % params["staging"])
        redactor = forensics.Redactor(params["secrets"], params["redact_keys"])
        result["releases"] = [forensics.release_check(entry) for entry in params["releases"]]
        result["intact"] = all(r["intact"] for r in result["releases"] if r["checked"])
        documents = dict((to_native(k), to_native(v)) for k, v in params["documents"].items())
        if result["releases"]:
            documents["release-check.json"] = json.dumps(result["releases"], indent=2, sort_keys=True) + "\n"
        members = forensics.add_documents(forensics.plan_members(params["staging"], redactor), documents, redactor)
        result["members"] = [dict((k, v) for k, v in m.items() if k != "data") for m in members]
        result["redactions"] = sum(m["redactions"] for m in members)
        if not module.check_mode:
            written = forensics.build_bundle(members, bundle, top)
            verified = forensics.verify_bundle(bundle, forbidden=[s for s in params["secrets"] if len(s or "") >= forensics.MIN_SECRET_LENGTH])
            result.update(sha256=written["sha256"], bytes=written["bytes"], verified=verified["verified"])
            if not params["keep_staging"]:
                forensics.remove_tree(params["staging"])
    except OperatorError as err:
        module.fail_json(msg=to_native(err), **result)
    module.exit_json(changed=True, msg="%s: %d members, %d values redacted, sha256 %s" % (
        bundle, len(result["members"]), result["redactions"], result["sha256"] or "(check mode)"), **result)


if __name__ == "__main__":
    main()

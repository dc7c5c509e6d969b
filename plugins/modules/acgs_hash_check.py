#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: acgs_hash_check
short_description: Verify the constitutional hash that ACGS services and files report
version_added: 0.1.0
description:
  - For each service, finds the constitutional hash wherever the service reports it, trying the
    O(sources) in order - the compliance status endpoint at a JSON path (V(compliance_endpoint)),
    the top-level key of that endpoint's body (V(top_level)), the C(/health) body (V(health)), the
    C(X-Constitutional-Hash) response header (V(header)) - and compares it with O(expected_hash).
  - Can also read the hash from files on the host (deployed configuration, policy bundles) by a
    JSON/YAML path or a regular expression.
  - Services are checked concurrently. The result has the same keys whatever was found.
author:
  - ACGS Operations Team (@acgs)
extends_documentation_fragment:
  - acgs.platform.probe
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same checks in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
options:
  services:
    description:
      - The services to check. When neither O(services), O(catalog) nor O(files) is given, every service
        of the collection's catalog on O(host) is checked. When only O(files) is given, only the files are.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the service, used in the results.
        type: str
        required: true
      url:
        description: Base URL of the service, for example V(http://127.0.0.1:8001).
        type: str
        required: true
      sources:
        description: Overrides O(sources) for this service.
        type: list
        elements: str
        choices: [compliance_endpoint, top_level, health, header]
      json_path:
        description: Overrides O(json_path) for this service.
        type: str
  catalog:
    description:
      - Service catalog entries as the C(acgs.platform.service_catalog) lookup returns them, with the
        inventory's overrides applied. Each needs C(name), C(host) and C(port) (C(tls_port) with
        O(use_tls=true)); Other keys are ignored.
      - The services are probed at V(http://host:port) (V(https://host:tls_port) with O(use_tls=true)).
      - Mutually exclusive with O(services).
    type: list
    elements: dict
  expected_hash:
    description:
      - The constitutional hash every service must report, 16 to 64 hexadecimal characters.
      - Compared case-insensitively. Default the hash of the collection's service catalog.
    type: str
  sources:
    description:
      - Where to look for the hash, in order; the first source that has one wins.
    type: list
    elements: str
    choices: [compliance_endpoint, top_level, health, header]
    default: [compliance_endpoint, top_level, health, header]
  compliance_path:
    description: Path of the compliance status endpoint.
    type: str
    default: /api/v1/compliance/status
  health_path:
    description: Path of the health endpoint.
    type: str
    default: /health
  json_path:
    description: Dotted JSON path of the hash in the compliance endpoint's body (also tried in the C(/health) body).
    type: str
    default: data.constitutional_hash
  hash_key:
    description:
      - Top-level key of the hash for the V(top_level) and V(health) sources, and the default JSON path for O(files).
    type: str
    default: constitutional_hash
  header_name:
    description: Response header that carries the hash for the V(header) source.
    type: str
    default: X-Constitutional-Hash
  files:
    description:
      - Files on the host whose hash to check as well.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Path of the file.
        type: path
        required: true
      name:
        description: Name used in the results; defaults to O(files[].path).
        type: str
      format:
        description:
          - How to parse the file for O(files[].json_path). V(auto) reads C(.json) files as JSON and others as YAML.
          - V(text) requires O(files[].regex).
        type: str
        choices: [auto, json, yaml, text]
        default: auto
      json_path:
        description: Dotted path of the hash in the JSON or YAML document; defaults to O(hash_key).
        type: str
      regex:
        description:
          - Regular expression searched in the file's text; its first group (or the whole match) is the hash.
          - Mutually exclusive with O(files[].json_path).
        type: str
  fail_on:
    description:
      - When the task fails. V(any) fails on a mismatch or a missing hash; V(mismatch) only on a hash
        that differs; V(never) only reports.
    type: str
    choices: [any, mismatch, never]
    default: any
requirements:
  - PyYAML (only for YAML O(files))
seealso:
  - module: acgs.platform.acgs_health
"""

EXAMPLES = r"""
- name: Verify the constitutional hash of every catalog service on this host
  acgs.platform.acgs_hash_check:
  register: compliance

- name: Verify services behind HAProxy TLS and the deployed configuration files
  acgs.platform.acgs_hash_check:
    services:
      - name: ac-service
        url: https://127.0.0.1:9001
      - name: legacy-service
        url: http://10.0.4.20:8080
        sources: [header]
    ca_path: /etc/haproxy/certs/acgs.pem
    files:
      - path: /etc/acgs/services/ac-service.json
      - path: /etc/acgs/policies/bundle.rego
        regex: 'constitutional_hash\s*:?=\s*"([0-9a-f]+)"'

- name: Check the services of the catalog lookup (inventory overrides applied)
  acgs.platform.acgs_hash_check:
    catalog: "{{ query('acgs.platform.service_catalog') }}"
    expected_hash: "{{ acgs_constitutional_hash | default(omit) }}"

- name: Report without failing, looking only at the health body and the header
  acgs.platform.acgs_hash_check:
    sources: [health, header]
    fail_on: never
  register: compliance

- name: Show the services that disagree
  ansible.builtin.debug:
    msg: "{{ compliance.mismatches }}"
"""

RETURN = r"""
compliant:
  description: Whether every service and file reported the expected hash.
  returned: always
  type: bool
  sample: true
compliance_percent:
  description: Share of services and files that reported the expected hash, in percent.
  returned: always
  type: float
  sample: 100.0
expected_hash:
  description: The hash compared against, lower-cased.
  returned: always
  type: str
  sample: cdd01ef066bc6cf2
services:
  description: One entry per service, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Service name.
      type: str
      sample: ac-service
    url:
      description: Base URL of the service.
      type: str
      sample: http://127.0.0.1:8001
    hash:
      description: Hash found (lower-cased), null when none was found.
      type: str
      sample: cdd01ef066bc6cf2
    source:
      description: Where the hash was found (compliance_endpoint, top_level, health, header), null when nowhere.
      type: str
      sample: compliance_endpoint
    source_url:
      description: URL of the response that carried the hash.
      type: str
      sample: http://127.0.0.1:8001/api/v1/compliance/status
    compliant:
      description: Whether the hash found is the expected one.
      type: bool
      sample: true
    error:
      description: Why the service is not compliant, null when it is.
      type: str
      sample: null
    latency_ms:
      description: Time spent on this service in milliseconds.
      type: int
      sample: 9
files:
  description: One entry per file.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the entry.
      type: str
      sample: /etc/acgs/services/ac-service.json
    path:
      description: Path of the file.
      type: str
      sample: /etc/acgs/services/ac-service.json
    hash:
      description: Hash found, null when none.
      type: str
      sample: cdd01ef066bc6cf2
    source:
      description: V(file:json_path) or V(file:regex).
      type: str
      sample: file:json_path
    compliant:
      description: Whether the hash found is the expected one.
      type: bool
      sample: true
    error:
      description: Why the file is not compliant, null when it is.
      type: str
      sample: null
mismatches:
  description: Services and files whose hash differs from the expected one.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "ec-service", "found": "0000000000000000", "expected": "cdd01ef066bc6cf2", "source": "compliance_endpoint"}]
missing:
  description: Names of the services and files where no hash was found.
  returned: always
  type: list
  elements: str
  sample: []
summary:
  description: Counts.
  returned: always
  type: dict
  sample: {"total": 7, "compliant": 7, "mismatched": 0, "missing": 0}
elapsed_ms:
  description: Wall time of the check in milliseconds.
  returned: always
  type: int
  sample: 31
msg:
  description: One-line verdict.
  returned: always
  type: str
  sample: constitutional compliance 100.0% (7/7 match cdd01ef066bc6cf2)
"""

import copy

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.acgs.platform.plugins.module_utils._hash_check import (
    FAIL_ON,
    FILE_FORMATS,
    SERVICE_OPTIONS,
    SOURCES,
    empty_result,
    run_hash_check,
)
from ansible_collections.acgs.platform.plugins.module_utils._probe_args import ProbeError, probe_common_argument_spec


def main():
    argument_spec = probe_common_argument_spec()
    argument_spec.update(
        services=dict(type="list", elements="dict", options=copy.deepcopy(SERVICE_OPTIONS)),
        catalog=dict(type="list", elements="dict"),
        expected_hash=dict(type="str"),
        sources=dict(type="list", elements="str", choices=list(SOURCES), default=list(SOURCES)),
        compliance_path=dict(type="str", default="/api/v1/compliance/status"),
        health_path=dict(type="str", default="/health"),
        json_path=dict(type="str", default="data.constitutional_hash"),
        hash_key=dict(type="str", default="constitutional_hash", no_log=False),
        header_name=dict(type="str", default="X-Constitutional-Hash"),
        files=dict(type="list", elements="dict", default=[], mutually_exclusive=[("json_path", "regex")], options=dict(
            path=dict(type="path", required=True),
            name=dict(type="str"),
            format=dict(type="str", default="auto", choices=list(FILE_FORMATS)),
            json_path=dict(type="str"),
            regex=dict(type="str"),
        )),
        fail_on=dict(type="str", default="any", choices=list(FAIL_ON)),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=[("services", "catalog")])
    try:
        result, failed, message = run_hash_check(module.params)
    except ProbeError as err:
        module.fail_json(msg=str(err), **empty_result())
    if failed:
        module.fail_json(msg=message, **result)
    module.exit_json(msg=message, **result)


if __name__ == "__main__":
    main()

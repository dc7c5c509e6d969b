#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: acgs_health
short_description: Check the health of ACGS services and their dependencies
version_added: 0.1.0
description:
  - Probes ACGS services over HTTP(S) and their dependencies (PostgreSQL, Redis, NATS, TCP, HTTP)
    concurrently, and decides the platform status from the results, as the runbook's
    comprehensive health check does.
  - A service is V(healthy) when it answers one of its O(services[].status_codes) with a JSON body
    meeting its O(services[].conditions), V(degraded) when it is healthy but slower than the latency
    threshold, V(unhealthy) otherwise.
  - The platform is V(critical) when a critical service is unhealthy, or when a required dependency
    that a critical service needs (see O(services[].dependencies)) is unhealthy; V(degraded) when
    anything else is not healthy; V(healthy) otherwise.
  - The result has the same keys whether the services are up or down.
author:
  - ACGS Operations Team (@acgs)
extends_documentation_fragment:
  - acgs.platform.probe
  - acgs.platform.connection.health
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same probes in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
options:
  services:
    description:
      - The services to probe. When neither O(services) nor O(catalog) is given, every service of the
        collection's catalog on O(host) is probed, with the catalog's criticality and dependencies.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the service, used in the results.
        type: str
        required: true
      url:
        description: Base URL of the service, for example V(http://127.0.0.1:8000).
        type: str
        required: true
      path:
        description: Path of the health endpoint, appended to O(services[].url).
        type: str
        default: /health
      criticality:
        description: How much the platform depends on the service; an unhealthy V(critical) service makes the platform critical.
        type: str
        choices: [critical, medium, low]
        default: medium
      status_codes:
        description: HTTP status codes that count as up.
        type: list
        elements: int
        default: [200]
      conditions:
        description:
          - Conditions on the JSON body, a mapping of a dotted JSON path (such as V(status) or V(checks.database))
            to the accepted value or a list of accepted values. Strings compare case-insensitively.
          - 'Defaults to V({"status": ["healthy", "ok", "up", "pass"]}) when O(services[].expect_json=true).'
        type: dict
      expect_json:
        description: Whether the body must be JSON. With V(false) only the status code counts.
        type: bool
        default: true
      dependencies:
        description:
          - Names of entries of O(dependencies) this service needs. A required dependency needed by a
            critical service makes the platform critical when it is down.
        type: list
        elements: str
        default: []
      latency_threshold_ms:
        description: Overrides O(latency_threshold_ms) for this service.
        type: int
  catalog:
    description:
      - Service catalog entries as the C(acgs.platform.service_catalog) lookup returns them, with the
        inventory's overrides applied. Each needs C(name), C(host) and C(port) (C(tls_port) with
        O(use_tls=true)); C(criticality) and C(dependencies) are used when present.
      - The services are probed at V(http://host:port) (V(https://host:tls_port) with O(use_tls=true)).
      - Mutually exclusive with O(services).
    type: list
    elements: dict
  latency_threshold_ms:
    description:
      - Response time in milliseconds above which a healthy service or dependency counts as degraded.
    type: int
    default: 1000
  fail_on:
    description:
      - When the task fails. V(critical) fails a critical platform only (a degraded one is reported);
        V(degraded) fails anything not healthy; V(never) only reports.
    type: str
    choices: [critical, degraded, never]
    default: critical
requirements:
  - psycopg2 (for V(postgresql) dependencies)
  - redis (for V(redis) dependencies)
seealso:
  - module: acgs.platform.acgs_hash_check
  - plugin: acgs.platform.health_report
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Check every service of the catalog on this host
  acgs.platform.acgs_health:
  register: health

- name: Check the services and the infrastructure they need
  acgs.platform.acgs_health:
    services:
      - name: auth-service
        url: https://127.0.0.1:9000
        criticality: critical
        dependencies: [postgresql, redis]
      - name: gs-service
        url: http://127.0.0.1:8004
        dependencies: [postgresql, nats]
    dependencies:
      - name: postgresql
        type: postgresql
        login_user: acgs
        login_password: "{{ acgs_postgresql_password }}"
        login_db: acgs
      - name: redis
        type: redis
        login_password: "{{ acgs_redis_password }}"
      - name: nats
        type: nats
    ca_path: /etc/haproxy/certs/acgs.pem
    timeout: 3
    retries: 1
    latency_threshold_ms: 500
  register: health

- name: Report only, never fail (for a dashboard job)
  acgs.platform.acgs_health:
    host: 10.0.4.12
    fail_on: never
  register: health

- name: Services of the catalog lookup (inventory overrides applied), with their dependencies
  acgs.platform.acgs_health:
    catalog: "{{ query('acgs.platform.service_catalog') }}"
    dependencies:
      - {name: postgresql, type: postgresql, login_user: acgs, login_db: acgs, login_password: "{{ acgs_postgresql_password }}"}
      - {name: redis, type: redis, login_password: "{{ acgs_redis_password }}"}
      - {name: nats, type: nats}

- name: A service with a different health endpoint and body
  acgs.platform.acgs_health:
    services:
      - name: legacy-service
        url: http://10.0.4.20:8080
        path: /status
        status_codes: [200, 204]
        conditions:
          health.state: [UP, OK]
          checks.database: true
"""

RETURN = r"""
status:
  description: Platform status.
  returned: always
  type: str
  choices: [healthy, degraded, critical]
  sample: healthy
services:
  description: One entry per service, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Service name.
      type: str
      sample: auth-service
    url:
      description: URL probed.
      type: str
      sample: http://127.0.0.1:8000/health
    criticality:
      description: Criticality of the service.
      type: str
      sample: critical
    status:
      description: V(healthy), V(degraded) (slower than the threshold) or V(unhealthy).
      type: str
      sample: healthy
    http_status:
      description: HTTP status code of the last attempt, null when no response came.
      type: int
      sample: 200
    latency_ms:
      description: Response time of the last attempt in milliseconds.
      type: int
      sample: 12
    version:
      description: Version the service reports in its body, if any.
      type: str
      sample: 0.1.0
    reported_name:
      description: Name the service reports (C(service), C(service_name) or C(name) key), if any.
      type: str
      sample: auth-service
    reported_status:
      description: The C(status) field of the body, if any.
      type: str
      sample: healthy
    attempts:
      description: Number of attempts made.
      type: int
      sample: 1
    error:
      description: Why the service is not healthy, null when it is.
      type: str
      sample: connection refused
    error_kind:
      description:
        - Class of the problem, null when healthy. One of refused, unreachable, timeout, reset, closed, dns,
          tls, http_status, invalid_json, condition, latency, error.
      type: str
      sample: timeout
    dependencies:
      description: Names of the dependencies the service needs.
      type: list
      elements: str
      sample: [postgresql, redis]
    impaired_by:
      description: Those of its dependencies that are down.
      type: list
      elements: str
      sample: []
dependencies:
  description: One entry per dependency, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Dependency name.
      type: str
      sample: postgresql
    type:
      description: Dependency type.
      type: str
      sample: postgresql
    host:
      description: Host probed (null for V(http)).
      type: str
      sample: 127.0.0.1
    port:
      description: Port probed (null for V(http)).
      type: int
      sample: 5432
    url:
      description: URL probed (V(http) only, else null).
      type: str
      sample: null
    required:
      description: Whether the dependency is required.
      type: bool
      sample: true
    status:
      description: V(healthy), V(degraded) (slow, or PostgreSQL pool use above the threshold) or V(unhealthy).
      type: str
      sample: healthy
    latency_ms:
      description: Time of the probe in milliseconds.
      type: int
      sample: 8
    attempts:
      description: Number of attempts made.
      type: int
      sample: 1
    error:
      description: Why the dependency is not healthy (passwords removed), null when it is.
      type: str
      sample: "authentication failed: invalid username-password pair or user is disabled."
    error_kind:
      description: Class of the problem (auth, refused, timeout, ...), null when healthy.
      type: str
      sample: auth
    needed_by:
      description: Services that need this dependency.
      type: list
      elements: str
      sample: [auth-service, ec-service]
    details:
      description:
        - What the probe measured; the keys depend on the type and are always present (null when unknown).
        - V(postgresql) C(server_version), C(connections), C(max_connections), C(pool_usage_percent);
          V(redis) C(redis_version), C(role), C(connected_clients), C(used_memory), C(keyspace_hits),
          C(keyspace_misses), C(hit_rate_percent); V(nats) C(server_id), C(server_name), C(version),
          C(jetstream), C(max_payload), C(tls_required); V(http) C(http_status).
      type: dict
      sample: {"server_version": "15.14", "connections": 6, "max_connections": 100, "pool_usage_percent": 6.0}
summary:
  description: Counts of services and dependencies by status, and of the reasons.
  returned: always
  type: dict
  sample:
    services: {total: 7, healthy: 7, degraded: 0, unhealthy: 0}
    dependencies: {total: 3, healthy: 3, degraded: 0, unhealthy: 0}
    critical_failures: 0
    warnings: 0
reasons:
  description: Why the platform is not healthy, critical reasons first, each naming the URL or address probed.
  returned: always
  type: list
  elements: str
  sample: ["critical service auth-service is down: connection refused (http://127.0.0.1:8000/health)"]
summary_lines:
  description:
    - The verdict and a table of the services and dependencies (each row with the URL or address probed), then the
      reasons, as lines for a terminal. The P(acgs.platform.health_report#filter) filter adds the constitutional hashes.
  returned: always
  type: list
  elements: str
  sample:
    - "ACGS platform: HEALTHY   services 1/1 healthy, dependencies 1/1 healthy (12 ms)"
    - "SERVICE            CRIT      STATUS     HTTP   LATENCY  VERSION   URL"
    - "auth-service       critical  healthy    200      9 ms  0.1.0     http://127.0.0.1:8000/health"
    - "DEPENDENCY         TYPE       STATUS      LATENCY  ADDRESS                DETAILS"
    - "postgresql         postgresql healthy       8 ms  127.0.0.1:5432         pool 6.0% (6/100 connections)"
elapsed_ms:
  description: Wall time of all the probes in milliseconds.
  returned: always
  type: int
  sample: 215
msg:
  description: One-line verdict.
  returned: always
  type: str
  sample: "platform is healthy: 7/7 services healthy, 3/3 dependencies healthy"
"""

import copy

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.acgs.platform.plugins.module_utils import _postgres, _redis
from ansible_collections.acgs.platform.plugins.module_utils._health import FAIL_ON, SERVICE_OPTIONS, empty_result, run_health
from ansible_collections.acgs.platform.plugins.module_utils._health_deps import DEPENDENCY_TYPES, libraries_needed
from ansible_collections.acgs.platform.plugins.module_utils._libraries import missing
from ansible_collections.acgs.platform.plugins.module_utils._probe_args import ProbeError, probe_common_argument_spec


def main():
    dependency_options = _postgres.argument_spec()
    dependency_options.update(_redis.argument_spec())
    dependency_options.update(
        name=dict(type="str", required=True),
        type=dict(type="str", required=True, choices=list(DEPENDENCY_TYPES)),
        url=dict(type="str"),
        status_codes=dict(type="list", elements="int", default=[200]),
        redis_db=dict(type="int", default=0),
        tls=dict(type="bool", default=False),
        required=dict(type="bool", default=True),
        pool_threshold_percent=dict(type="float", default=80.0),
    )
    argument_spec = probe_common_argument_spec()
    argument_spec.update(
        services=dict(type="list", elements="dict", options=copy.deepcopy(SERVICE_OPTIONS)),
        catalog=dict(type="list", elements="dict"),
        dependencies=dict(type="list", elements="dict", default=[], options=dependency_options),
        latency_threshold_ms=dict(type="int", default=1000),
        fail_on=dict(type="str", default="critical", choices=list(FAIL_ON)),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=[("services", "catalog")])

    for library, error in missing(libraries_needed(module.params["dependencies"])):
        module.fail_json(msg=missing_required_lib(library), exception=error, **empty_result())
    try:
        result, failed, message = run_health(module.params, warn=module.warn)
    except ProbeError as err:
        module.fail_json(msg=str(err), **empty_result())
    if failed:
        module.fail_json(msg=message, **result)
    module.exit_json(msg=message, **result)


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: security_findings
author: ACGS Operations Team (@acgs)
version_added: 0.1.0
short_description: Findings of one ACGS security check from what a stock module returned
description:
  - Turns the registered result of a read-only task into the findings of the security scan,
    each C({id, severity, title, detail}) with severity V(info), V(low), V(medium), V(high) or V(critical).
  - A check that could not look (a server down, a file missing, a timeout) gives a V(medium) finding
    C(<check>-unchecked) (the hash check V(high)), so that a report is never clean by omission.
  - Bad input fails naming the check and what is wrong.
positional: check
options:
  _input:
    description:
      - What the check reads, by O(check)
      - V(permissions) - a list of M(ansible.builtin.stat) C(stat) dicts or M(ansible.builtin.find) C(files), each with C(path).
      - V(tls) - the registered result's C(results) of M(community.crypto.get_certificate) looped over catalog entries.
      - V(listeners), V(processes), V(lynis) - the registered result of the command (C(ss -Htlnp); C(supervisorctl status); Lynis).
      - V(pg_hba) - the registered result of M(community.postgresql.postgresql_query) on C(pg_hba_file_rules).
      - V(redis) - the registered result of M(community.general.redis_info) tried without a password.
      - V(admin_socket) - the C(stat) dict of M(ansible.builtin.stat) on HAProxy's admin socket.
      - V(hash) - the registered result of M(acgs.platform.acgs_hash_check).
    type: raw
    required: true
  check:
    description: The check.
    type: str
    required: true
    choices: [permissions, tls, listeners, pg_hba, redis, admin_socket, processes, hash, lynis]
  max_mode:
    description: V(permissions) - the most the file's mode may allow, such as V(0600); more group or world bits are V(high).
    type: str
  owner:
    description: V(permissions) - the owner the file must have (another one is V(high)).
    type: str
  what:
    description: V(permissions) - what the files are, for the titles (V(secrets file)).
    type: str
  ident:
    description: V(permissions) - the prefix of the findings' ids.
    type: str
  renew_days:
    description: V(tls) - a certificate with fewer days left is V(medium); expired or not yet valid is V(high).
    type: float
  now:
    description: V(tls) - the time to judge at, a naive UTC datetime; default now.
    type: raw
  catalog:
    description: V(listeners) - the service catalog (C(acgs_catalog)).
    type: list
    elements: dict
  infrastructure:
    description: V(listeners) - infrastructure component to port (C(acgs_reserved_ports)).
    type: dict
  groups:
    description: V(listeners) - the host's inventory groups (C(group_names)).
    type: list
    elements: str
  group_listeners:
    description: V(listeners) - per inventory group, what listens on its hosts (components of O(infrastructure), C(service:KEY) for a catalog port key).
    type: dict
  allowed:
    description: V(listeners) - sockets the operator accepts, C(ADDRESS:PORT) or C(:PORT) (any address); each is an V(info) finding naming it.
    type: list
    elements: str
  host_methods:
    description: V(pg_hba) - the methods network lines may use (password authentication).
    type: list
    elements: str
  address:
    description: V(redis) - where Redis was asked, for the titles.
    type: str
  path:
    description: V(admin_socket) - the socket's path, for the titles.
    type: str
  ps:
    description: V(processes) - the output of C(ps -eo pid=,ppid=,uid=,user:32=,comm=).
    type: str
  prefix:
    description: V(processes) - the prefix of the services' supervisor programs.
    type: str
  report:
    description: V(lynis) - the text of the audit's report file.
    type: str
  severities:
    description: V(lynis) - severity of each kind of line, C({warning, suggestion}).
    type: dict
  timeout:
    description: V(lynis) - the seconds the audit was given, for the title of a timeout.
    type: int
"""

EXAMPLES = r"""
- name: Listening sockets against what the catalog expects on this host
  ansible.builtin.command: ss -Htlnp
  register: sockets
  changed_when: false

- name: Findings
  ansible.builtin.debug:
    msg: "{{ sockets | acgs.platform.security_findings('listeners', catalog=acgs_catalog, infrastructure=acgs_reserved_ports,
      groups=group_names, group_listeners={'loadbalancer': ['haproxy-stats', 'service:port', 'service:tls_port']}) }}"
"""

RETURN = r"""
_value:
  description: The findings, worst first within the check; empty when the check passed.
  type: list
  elements: dict
  contains:
    id:
      description: Stable identifier, C(<kind>:<subject>) (C(listener-exposed:0.0.0.0:2024), C(hash-mismatch:ec-service)).
      type: str
    severity:
      description: V(info), V(low), V(medium), V(high) or V(critical).
      type: str
    title:
      description: What is wrong, naming the file, port, line, program or service.
      type: str
    detail:
      description: Why it matters or what to do.
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.module_utils._security import SecurityError, evaluate


def security_findings(data, check, **options):
    try:
        return evaluate(check, data, **options)
    except SecurityError as exc:
        raise AnsibleFilterError("acgs.platform.security_findings: %s" % exc)


class FilterModule(object):

    def filters(self):
        return {"security_findings": security_findings}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: maintenance_restarts
author: ACGS Operations Team (@acgs)
version_added: 0.1.0
short_description: The ACGS components to restart because they still run files an upgrade replaced
description:
  - Reads the maintenance role's scan of C(/proc) - one line per process that maps a deleted file of the system's
    libraries or programs, C(pid<TAB>comm<TAB>cmdline<TAB>files) - and names the ACGS component each belongs to,
    that is the role whose lifecycle actions (C(stop), C(start)) restart it.
  - An ACGS service instance is recognised by its C(--config <service>-<slot>.json); PostgreSQL only for the ACGS
    cluster O(cluster) (a server without a Debian cluster name is not it); Redis only on O(redis_port) when given.
    Other processes, and supervisord itself, are listed as not restarted, with why.
positional: services, cluster, redis_port
options:
  _input:
    description: The scan's lines (a list or one text).
    type: raw
    required: true
  services:
    description: The catalog's service names.
    type: list
    elements: str
    required: true
  cluster:
    description: The ACGS PostgreSQL cluster's name.
    type: str
    default: main
  redis_port:
    description: The ACGS Redis server's port; a C(redis-server) on another port is not restarted. Unset, any is.
    type: int
"""

EXAMPLES = r"""
- name: Which components to restart
  ansible.builtin.set_fact:
    stale: "{{ scan.stdout_lines | acgs.platform.maintenance_restarts(acgs_catalog | map(attribute='name')) }}"
"""

RETURN = r"""
_value:
  description: What to restart.
  type: dict
  contains:
    components:
      description: Roles to restart, in lifecycle order (V(services) for ACGS service instances).
      type: list
      elements: str
      sample: [postgresql, services]
    services:
      description: The catalog services with an instance to restart.
      type: list
      elements: str
    processes:
      description: The processes behind them, each C({pid, comm, cmdline, files, component}).
      type: list
      elements: dict
    not_restarted:
      description: Other processes using replaced files, each with C(why_not_restarted).
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.module_utils._maintenance import MaintenanceError, restarts


def maintenance_restarts(lines, services, cluster="main", redis_port=None):
    try:
        return restarts(lines, services, cluster, redis_port)
    except MaintenanceError as exc:
        raise AnsibleFilterError("acgs.platform.maintenance_restarts: %s" % exc)


class FilterModule(object):

    def filters(self):
        return {"maintenance_restarts": maintenance_restarts}

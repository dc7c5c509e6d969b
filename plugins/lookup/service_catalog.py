# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: service_catalog
author: ACGS Operations Team (@acgs)
short_description: The ACGS service catalog with inventory overrides applied
version_added: 0.1.0
description:
  - Returns the runbook's 7 ACGS services, one dictionary each, from the single
    catalog kept in the collection's C(module_utils/catalog.py).
  - Inventory variables override ports, hosts and criticality per service and the
    constitutional hash; every entry is validated (port collisions, criticality,
    dependencies on unknown components, malformed hash) and a bad entry fails the
    lookup with a message naming it, which is what the site.yml prechecks rely on.
  - With the term V(infrastructure), returns instead the default ports of the infrastructure
    (C(postgresql), C(redis), C(nats), C(nats_monitor), C(haproxy_stats), C(prometheus),
    C(alertmanager), C(blackbox), C(node_exporter)) as one dictionary, the ports the modules default to.
options:
  _terms:
    description:
      - Omit for the services. V(infrastructure) for the infrastructure's default ports.
    type: list
    elements: str
    choices: [infrastructure]
  overrides:
    description:
      - "Per-service settings that replace the catalog's, keyed by service name,
        for example C({'auth-service': {'port': 9100, 'host': '10.0.0.5'}})."
      - Keys a service accepts are C(port), C(instance_port), C(green_port), C(tls_port), C(host),
        C(purpose), C(criticality) and C(dependencies).
    type: dict
    default: {}
    vars:
      - name: acgs_service_overrides
  host:
    description: Address of the services when an override does not give one.
    type: str
    default: 127.0.0.1
    vars:
      - name: acgs_services_host
  constitutional_hash:
    description:
      - The expected constitutional hash; validated, returned in each entry.
      - Default the catalog's hash (C(cdd01ef066bc6cf2)).
    type: str
    vars:
      - name: acgs_constitutional_hash
  reserved_ports:
    description:
      - Ports the infrastructure on the same host already uses, by component name;
        a service port equal to one of them is a collision.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Show the public port of every service
  ansible.builtin.debug:
    msg: "{{ item.name }} -> {{ item.port }}"
  loop: "{{ query('acgs.platform.service_catalog') }}"

- name: Fail before anything changes when a service takes a port of the infrastructure
  ansible.builtin.set_fact:
    acgs_catalog: "{{ query('acgs.platform.service_catalog', reserved_ports=lookup('acgs.platform.service_catalog', 'infrastructure')) }}"

- name: Where PostgreSQL listens unless the inventory says otherwise
  ansible.builtin.debug:
    msg: "{{ lookup('acgs.platform.service_catalog', 'infrastructure').postgresql }}"
"""

RETURN = r"""
_list:
  description:
    - One entry per service.
    - With the term V(infrastructure), one dictionary of component name to port instead.
  type: list
  elements: dict
  contains:
    name:
      description: Service name.
      type: str
    port:
      description: Public port, owned by HAProxy.
      type: int
    instance_port:
      description: Port the instance listens on behind HAProxy (its blue slot).
      type: int
    blue_port:
      description: Port of the blue instance slot (always C(instance_port)).
      type: int
    green_port:
      description:
        - Port of the green instance slot, C(instance_port) + 100 unless overridden.
        - Blue-green and canary deploys install a release into the idle slot; HAProxy's backend
          has a server for each slot.
      type: int
    slot_ports:
      description: "The slots' ports, C({blue: PORT, green: PORT})."
      type: dict
    tls_port:
      description: HTTPS port on HAProxy.
      type: int
    host:
      description: Address the service is reached at.
      type: str
    purpose:
      description: What the service does.
      type: str
    criticality:
      description: One of V(critical), V(medium) or V(low).
      type: str
    dependencies:
      description: Components the service needs.
      type: list
      elements: str
    required_dependencies:
      description: The dependencies whose loss makes the service unhealthy.
      type: list
      elements: str
    constitutional_hash:
      description: The expected hash.
      type: str
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.acgs.platform.plugins.module_utils.catalog import (
    COMPONENTS, CONSTITUTIONAL_HASH, INFRASTRUCTURE_PORTS, CatalogError, build_catalog, validate_hash, validate_services)


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        if terms:
            if list(terms) != ["infrastructure"]:
                raise AnsibleLookupError("ACGS service catalog: unknown term(s) %s (known: infrastructure)"
                                         % ", ".join(repr(t) for t in terms))
            return [dict(INFRASTRUCTURE_PORTS)]
        self.set_options(var_options=variables, direct=kwargs)
        try:
            expected = validate_hash(self.get_option("constitutional_hash") or CONSTITUTIONAL_HASH, "acgs_constitutional_hash")
            entries = build_catalog(self.get_option("overrides"), self.get_option("host"))
            validate_services(entries, self.get_option("reserved_ports"))
        except CatalogError as exc:
            raise AnsibleLookupError("ACGS service catalog: %s" % exc)
        for entry in entries:
            entry["constitutional_hash"] = expected
            entry["required_dependencies"] = [dep for dep in entry["dependencies"] if COMPONENTS[dep]["required"]]
        return entries

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Options shared by the probing modules (acgs_health, acgs_hash_check).
    DOCUMENTATION = r"""
options:
  host:
    description:
      - Host of the services when neither O(services) nor O(catalog) is given; the modules then check every service
        of the collection's service catalog (the runbook's table) on this host, at its public port
        (8000-8006 by default) or its TLS port (9000-9006) with O(use_tls=true).
      - Also the default host of C(dependencies) entries of M(acgs.platform.acgs_health) that name none.
    type: str
    default: 127.0.0.1
  use_tls:
    description:
      - Probe the catalog services (the default ones, or those of O(catalog)) over HTTPS at their TLS ports.
    type: bool
    default: false
  timeout:
    description:
      - Seconds one probe may take (each connection attempt and each read is bounded by it).
        A server that accepts the connection and never answers ends the probe after this time.
    type: float
    default: 5.0
  retries:
    description:
      - How many times a failed probe is repeated before its failure counts.
    type: int
    default: 0
  retry_delay:
    description:
      - Seconds to wait between the attempts of one probe.
    type: float
    default: 1.0
  validate_certs:
    description:
      - Verify the TLS certificates of HTTPS services (and of NATS or Redis with TLS).
      - Turn off only for self-signed certificates you cannot give with O(ca_path).
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the certificate authority (or authorities) that signed the services' certificates.
    type: path
  client_cert:
    description:
      - PEM client certificate for services that require mutual TLS.
      - May contain the private key too, else give O(client_key).
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert).
    type: path
  use_proxy:
    description:
      - Use the proxy of the C(http_proxy)/C(https_proxy) environment variables for HTTP probes.
    type: bool
    default: true
  max_workers:
    description:
      - How many probes run at the same time. All probes of one task run concurrently up to this
        number, so the task takes about as long as the slowest probe.
    type: int
    default: 100
notes:
  - Only reads; supports check mode and changes nothing.
"""

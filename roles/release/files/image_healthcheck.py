# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The service image's HEALTHCHECK: GET /health on the port of the configuration at $ACGS_CONFIG.

Exit 0 when the service answers healthy with the constitutional hash its configuration expects, 1 otherwise
(one line on stdout says why; docker inspect shows it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys
from urllib.request import urlopen


def main():
    path = os.environ.get("ACGS_CONFIG", "/etc/acgs/service.json")
    try:
        with open(path) as handle:
            config = json.load(handle)
        host = config.get("listen_host") or "127.0.0.1"
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        if ":" in host:
            host = "[%s]" % host
        url = "http://%s:%d/health" % (host, int(config["listen_port"]))
        body = json.loads(urlopen(url, timeout=float(os.environ.get("ACGS_HEALTHCHECK_TIMEOUT", "2"))).read().decode("utf-8"))
    except Exception as exc:  # pylint: disable=broad-except
        print("unhealthy: %s" % exc)
        return 1
    expected = str(config["constitutional_hash"]).lower()
    if body.get("status") != "healthy" or str(body.get("constitutional_hash", "")).lower() != expected:
        print("unhealthy: status %s, hash %s (expected %s)" % (body.get("status"), body.get("constitutional_hash"), expected))
        return 1
    print("healthy: %s %s" % (body.get("service"), body.get("version")))
    return 0


if __name__ == "__main__":
    sys.exit(main())

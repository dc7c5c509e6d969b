# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the connection options PostgreSQL and Redis share.

acgs_health's ``dependencies`` and acgs_backup's ``postgresql`` and ``redis`` take
the same option names, documented once by the acgs.platform.connection fragment;
the older names stay as aliases. The argument specs carry no default for what
depends on the server type (port) or on the module (host, connect_timeout), so
one documentation fits every module: resolve() fills those in. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.plugins.module_utils.catalog import DEFAULT_HOST, INFRASTRUCTURE_PORTS

DEFAULT_CONNECT_TIMEOUT = 10


def connection_argument_spec(**extra):
    """The options every server connection takes, plus ``extra``."""
    spec = dict(
        host=dict(type="str"),
        port=dict(type="int"),
        login_user=dict(type="str", aliases=["user", "username"]),
        login_password=dict(type="str", no_log=True, aliases=["password"]),
        connect_timeout=dict(type="int"),
    )
    spec.update(extra)
    return spec


def resolve(params, component, host=DEFAULT_HOST, connect_timeout=DEFAULT_CONNECT_TIMEOUT):
    """A copy of ``params`` with host, port (the catalog's for ``component``) and connect_timeout filled in."""
    resolved = dict(params)
    resolved["host"] = resolved.get("host") or host
    resolved["port"] = int(resolved.get("port") or INFRASTRUCTURE_PORTS[component])
    resolved["connect_timeout"] = resolved.get("connect_timeout") or connect_timeout
    return resolved


def where(params):
    """Where the server is, for messages: its unix socket or host:port."""
    return params.get("unix_socket") or "%s:%s" % (params.get("host"), params.get("port"))


class ConnectionFailed(OperatorError):
    """The server was not reached or refused the login; ``detail`` says why without the address."""

    def __init__(self, server, params, kind, detail):
        if kind == "auth":
            message = "%s at %s refused the password: %s" % (server, where(params), detail)
        else:
            message = "cannot connect to %s at %s: %s" % (server, where(params), detail)
        super(ConnectionFailed, self).__init__(message, kind, detail)

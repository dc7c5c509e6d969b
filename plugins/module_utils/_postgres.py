# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: PostgreSQL connections (psycopg2) for acgs_health and acgs_backup.

The connection options, one connect() whose failures are classified (auth,
refused, timeout, dns) with the password scrubbed, and queries. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.acgs.platform.plugins.module_utils import _connection
from ansible_collections.acgs.platform.plugins.module_utils._connection import ConnectionFailed
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError, fmt_seconds, scrub
from ansible_collections.acgs.platform.plugins.module_utils._libraries import load_library

SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
# The role and database used when none is given, as PostgreSQL's own tools assume.
DEFAULT_LOGIN = "postgres"


def argument_spec():
    """The PostgreSQL connection options (acgs.platform.connection fragment)."""
    return _connection.connection_argument_spec(
        login_db=dict(type="str", aliases=["db", "maintenance_db"]),
        ssl_mode=dict(type="str", default="prefer", choices=SSL_MODES),
    )


def resolve(params, **defaults):
    """A copy of ``params`` with every connection option filled in."""
    resolved = _connection.resolve(params, "postgresql", **defaults)
    resolved["login_user"] = resolved.get("login_user") or DEFAULT_LOGIN
    resolved["login_db"] = resolved.get("login_db") or DEFAULT_LOGIN
    resolved["ssl_mode"] = resolved.get("ssl_mode") or "prefer"
    return resolved


def classify(err, connect_timeout):
    """(kind, message) for a psycopg2 connection error."""
    text = to_native(err).strip()
    first = text.splitlines()[0] if text else type(err).__name__
    lowered = text.lower()
    if "authentication failed" in lowered or "no password supplied" in lowered or "password" in lowered and "auth" in lowered:
        return "auth", "authentication failed: %s" % (first.split("FATAL:", 1)[1].strip() if "FATAL:" in first else first)
    if "timeout expired" in lowered:
        return "timeout", "timed out after %ss connecting to PostgreSQL" % fmt_seconds(connect_timeout)
    if "connection refused" in lowered:
        return "refused", "connection refused"
    if "could not translate host name" in lowered:
        return "dns", "host name could not be resolved: %s" % first
    return "error", first


def connect(params, dbname=None, autocommit=True, **extra):
    """A psycopg2 connection for resolved ``params`` (to ``dbname``, default login_db).

    ``extra`` goes to psycopg2.connect (application_name, options, sslrootcert).
    Raises ConnectionFailed naming what failed, never the password.
    """
    psycopg2 = load_library("psycopg2")
    if psycopg2 is None:
        raise ConnectionFailed("PostgreSQL", params, "error", "the Python library psycopg2 is required")
    kwargs = dict(host=params["host"], port=params["port"], user=params["login_user"],
                  dbname=dbname or params["login_db"], sslmode=params["ssl_mode"],
                  connect_timeout=int(params["connect_timeout"]))
    if params.get("login_password"):
        kwargs["password"] = params["login_password"]
    kwargs.update(extra)
    try:
        conn = psycopg2.connect(**kwargs)
    except psycopg2.Error as err:
        kind, detail = classify(err, kwargs["connect_timeout"])
        raise ConnectionFailed("PostgreSQL", params, kind, scrub(detail, [params.get("login_password")]))
    conn.autocommit = autocommit
    return conn


def query(conn, sql, args=None, secrets=()):
    """The rows of ``sql``; OperatorError with the server's message (secrets scrubbed) when it fails."""
    psycopg2 = load_library("psycopg2")
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else []
    except psycopg2.Error as exc:
        raise OperatorError("PostgreSQL query failed: %s" % scrub(str(exc).strip(), secrets))

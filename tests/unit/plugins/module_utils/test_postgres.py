# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL connections: options, defaults, failures put into words (no server needed)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _postgres
from ansible_collections.acgs.platform.plugins.module_utils._connection import ConnectionFailed
from ansible_collections.acgs.platform.plugins.module_utils.catalog import INFRASTRUCTURE_PORTS
from ansible_collections.acgs.platform.tests.unit.plugins.test_support.fault_servers import RawServer, free_port


def test_options_keep_the_old_names_as_aliases():
    spec = _postgres.argument_spec()
    assert spec["login_user"]["aliases"] == ["user", "username"]
    assert spec["login_password"]["aliases"] == ["password"] and spec["login_password"]["no_log"]
    assert spec["login_db"]["aliases"] == ["db", "maintenance_db"]
    assert spec["ssl_mode"]["default"] == "prefer"


def test_resolve():
    resolved = _postgres.resolve({"login_password": "pw"})
    assert (resolved["port"], resolved["login_user"], resolved["login_db"], resolved["ssl_mode"]) == (
        INFRASTRUCTURE_PORTS["postgresql"], "postgres", "postgres", "prefer")


@pytest.mark.parametrize("text, expected", [
    ('connection to server at "127.0.0.1", port 5432 failed: FATAL:  password authentication failed for user "acgs"',
     ("auth", 'authentication failed: password authentication failed for user "acgs"')),
    ("fe_sendauth: no password supplied", ("auth", "authentication failed: fe_sendauth: no password supplied")),
    ("timeout expired", ("timeout", "timed out after 2s connecting to PostgreSQL")),
    ('connection to server at "127.0.0.1", port 1 failed: Connection refused\n\tIs the server running',
     ("refused", "connection refused")),
    ('could not translate host name "nowhere" to address', ("dns", 'host name could not be resolved: could not translate '
                                                                   'host name "nowhere" to address')),
    ("something odd\nsecond line", ("error", "something odd")),
])
def test_classify(text, expected):
    assert _postgres.classify(Exception(text), 2) == expected


def test_closed_port_and_silent_server():
    pytest.importorskip("psycopg2")
    params = _postgres.resolve({"port": free_port(), "login_password": "Pg-Secret-1", "connect_timeout": 2})
    with pytest.raises(ConnectionFailed) as err:
        _postgres.connect(params)
    assert (err.value.kind, err.value.detail) == ("refused", "connection refused")
    assert str(err.value) == "cannot connect to PostgreSQL at 127.0.0.1:%d: connection refused" % params["port"]
    with RawServer("hang") as server:
        with pytest.raises(ConnectionFailed) as err:
            _postgres.connect(dict(params, port=server.port))
    assert err.value.kind == "timeout" and "Pg-Secret-1" not in str(err.value)

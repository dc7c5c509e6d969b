# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options PostgreSQL and Redis share: names, aliases, defaults, messages."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.acgs.platform.plugins.module_utils import _connection
from ansible_collections.acgs.platform.plugins.module_utils.catalog import DEFAULT_HOST, INFRASTRUCTURE_PORTS


def test_spec_names_and_aliases():
    spec = _connection.connection_argument_spec(extra=dict(type="str"))
    assert sorted(spec) == ["connect_timeout", "extra", "host", "login_password", "login_user", "port"]
    assert spec["login_user"]["aliases"] == ["user", "username"]
    assert spec["login_password"] == dict(type="str", no_log=True, aliases=["password"])
    assert all("default" not in option for option in spec.values())


def test_resolve_fills_the_catalog_defaults():
    resolved = _connection.resolve({"host": None, "port": None, "connect_timeout": None, "databases": ["acgs"]}, "redis")
    assert (resolved["host"], resolved["port"], resolved["connect_timeout"]) == (DEFAULT_HOST, INFRASTRUCTURE_PORTS["redis"], 10)
    assert resolved["databases"] == ["acgs"]
    given = _connection.resolve({"host": "db", "port": "5433", "connect_timeout": 3}, "postgresql", host="x", connect_timeout=9)
    assert (given["host"], given["port"], given["connect_timeout"]) == ("db", 5433, 3)


def test_failure_messages_name_the_server():
    params = {"host": "127.0.0.1", "port": 5599}
    refused = _connection.ConnectionFailed("PostgreSQL", params, "refused", "connection refused")
    assert str(refused) == "cannot connect to PostgreSQL at 127.0.0.1:5599: connection refused"
    assert (refused.kind, refused.detail) == ("refused", "connection refused")
    auth = _connection.ConnectionFailed("Redis", {"unix_socket": "/run/redis.sock"}, "auth", "authentication failed: WRONGPASS")
    assert str(auth) == "Redis at /run/redis.sock refused the password: authentication failed: WRONGPASS"

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""acgs_health's dependency entries: validation, defaults, results of the same shape, closed ports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _health_deps
from ansible_collections.acgs.platform.plugins.module_utils._probe_args import ProbeError
from ansible_collections.acgs.platform.plugins.module_utils.catalog import INFRASTRUCTURE_PORTS
from ansible_collections.acgs.platform.tests.unit.plugins.test_support.fault_servers import free_port

OPTIONS = {"timeout": 1.0, "retries": 0, "retry_delay": 0, "latency_threshold_ms": 1000}


@pytest.mark.parametrize("spec, fragment", [
    ({"name": "t", "type": "tcp"}, r"dependencies\[0\]\.port is required"),
    ({"name": "h", "type": "http"}, r"dependencies\[0\]\.url is required"),
    ({"name": "h", "type": "http", "url": "nope"}, r"dependencies\[0\]\.url"),
    ({"name": "p", "type": "postgresql", "port": 70000}, "outside 1-65535"),
    ({"name": "p", "type": "postgresql", "port": 0}, "outside 1-65535"),
    ({"name": "p", "type": "mysql"}, r"dependencies\[0\]\.type"),
    ({"name": "p", "type": "postgresql", "pool_threshold_percent": 0}, "pool_threshold_percent"),
    ({"name": "r", "type": "redis", "redis_db": -1}, "redis_db"),
])
def test_dependency_validation_names_the_field(spec, fragment):
    with pytest.raises(ProbeError, match=fragment):
        _health_deps.normalise_dependencies([spec], "127.0.0.1")


def test_dependency_defaults_come_from_the_catalog():
    deps = _health_deps.normalise_dependencies([{"name": "pg", "type": "postgresql"}, {"name": "r", "type": "redis", "host": "h"},
                                                {"name": "n", "type": "nats"}], "10.0.0.1", timeout=0.5)
    assert [(d["host"], d["port"]) for d in deps] == [
        ("10.0.0.1", INFRASTRUCTURE_PORTS["postgresql"]), ("h", INFRASTRUCTURE_PORTS["redis"]), ("10.0.0.1", INFRASTRUCTURE_PORTS["nats"])]
    # libpq waits at least 2 s; Redis waits the module's timeout
    assert (deps[0]["login_user"], deps[0]["login_db"], deps[0]["connect_timeout"]) == ("postgres", "postgres", 2)
    assert deps[1]["connect_timeout"] == 0.5


def test_dependency_result_shape_is_fixed_per_type():
    for dtype, keys in _health_deps.DETAIL_KEYS.items():
        res = _health_deps.new_result({"name": "x", "type": dtype})
        assert sorted(res["details"]) == sorted(keys) and all(v is None for v in res["details"].values())


def test_libraries_needed():
    assert _health_deps.libraries_needed([{"type": "redis"}, {"type": "nats"}, {"type": "postgresql"}, {"type": "redis"}]) == [
        "psycopg2", "redis"]


@pytest.mark.parametrize("dtype", ["nats", "tcp", "postgresql", "redis"])
def test_closed_port_is_refused_with_the_same_keys(dtype):
    if dtype in _health_deps.LIBRARIES:
        pytest.importorskip(_health_deps.LIBRARIES[dtype])
    dep, = _health_deps.normalise_dependencies([{"name": "d", "type": dtype, "port": free_port(), "login_password": "pw-xyz"}],
                                               "127.0.0.1", timeout=1.0)
    res = _health_deps.probe_dependency(dep, OPTIONS)
    assert (res["status"], res["error_kind"], res["error"]) == ("unhealthy", "refused", "connection refused"), res
    assert sorted(res) == sorted(_health_deps.new_result(dep))

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The step logic of acgs_traffic (pure); the module itself runs against HAProxy in the deploy target."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _traffic as traffic
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError


def server(backend, name, weight, state="ready"):
    return {"backend": backend, "server": name, "weight": weight, "state": state}


def test_validate_defaults_the_state_and_keeps_the_order():
    out = traffic.validate([{"backend": "b", "server": "g", "weight": "50"}, server("b", "s", 0, "drain")])
    assert out == [server("b", "g", 50), server("b", "s", 0, "drain")]


@pytest.mark.parametrize("servers, message", [
    ([], "servers is empty"),
    ([{"backend": "b", "weight": 1}], "servers[0] needs backend and server"),
    ([server("b", "s", 257)], "servers[0].weight 257 is outside"),
    ([server("b", "s", -1)], "servers[0].weight -1 is outside"),
    ([{"backend": "b", "server": "s", "weight": "x"}], "servers[0].weight 'x' is not an integer"),
    ([server("b", "s", 1, "up")], "servers[0].state 'up' is not one of"),
    ([server("b", "s", 1), server("b", "s", 2)], "servers[1]: b/s is named twice"),
])
def test_validate_names_the_bad_entry(servers, message):
    with pytest.raises(OperatorError) as err:
        traffic.validate(servers)
    assert message in str(err.value)


def test_missing_names_unknown_servers():
    rows = {("b", "s"): {}}
    assert traffic.missing([server("b", "s", 1), server("b", "t", 1), server("c", "s", 1)], rows) == ["b/t", "c/s"]


def test_phases_give_traffic_before_taking_it_and_skip_what_is_already_so():
    before = {("a", "g"): {"weight": 0, "state": "ready"}, ("a", "b"): {"weight": 100, "state": "ready"},
              ("c", "g"): {"weight": 100, "state": "ready"}, ("c", "b"): {"weight": 0, "state": "ready"},
              ("d", "g"): {"weight": 0, "state": "drain"}}
    wanted = [server("a", "g", 50), server("a", "b", 50), server("c", "g", 100), server("c", "b", 0),
              server("d", "g", 0)]
    up, down = traffic.phases(wanted, before)
    # a/b keeps traffic (50) but loses some: it changes after a/g is up; c is already so; d/g: drain -> ready at 0
    assert up == [server("a", "g", 50), server("a", "b", 50)]
    assert down == [server("d", "g", 0)]


def test_a_drained_server_at_any_weight_takes_no_traffic():
    before = {("a", "g"): {"weight": 100, "state": "ready"}}
    up, down = traffic.phases([server("a", "g", 100, "drain")], before)
    assert up == [] and down == [server("a", "g", 100, "drain")]


@pytest.mark.parametrize("status, up", [("UP", True), ("UP 1/3", True), ("no check", True), ("DOWN", False),
                                        ("DOWN 1/2", False), ("MAINT", False), ("DRAIN", False), ("", False)])
def test_is_up(status, up):
    assert traffic.is_up({"status": status}) is up
    assert traffic.is_up(None) is False

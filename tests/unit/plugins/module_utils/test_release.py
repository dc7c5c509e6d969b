# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _release as release
from ansible_collections.acgs.platform.plugins.module_utils.catalog import build_catalog


def slots(state=None):
    return release.release_slots(build_catalog(), state or {}, "0.1.0")


def test_no_state_means_blue_runs_the_first_version_with_all_traffic():
    out = slots()
    auth = out["services"]["auth-service"]
    assert (auth["active"], auth["idle"], auth["release"]) == ("blue", "green", "0.1.0")
    assert auth["slots"]["blue"] == {"release": "0.1.0", "weight": 100, "running": True, "faults": {},
                                     "port": 18000, "server": "auth-service-blue"}
    assert auth["slots"]["green"]["release"] is None and auth["slots"]["green"]["port"] == 18100
    assert [(i["name"], i["slot"], i["slot_port"]) for i in out["instances"]][:2] == [
        ("auth-service", "blue", 18000), ("ac-service", "blue", 18001)]
    assert len(out["instances"]) == 7


def deployed(name="auth-service", to="0.2.0", keep_old=True, faults=None):
    current = slots()["services"][name]
    p = release.plan(current, to, [50, 100], faults)
    state = release.update({}, name, "0.1.0", "install", p["target"], p["install"])
    return p, release.update(state, name, "0.1.0", "promote", p["target"], deployment_id="deploy-1", keep_old=keep_old)


def test_plan_installs_into_the_idle_slot_and_shifts_in_steps():
    p, state = deployed()
    assert (p["action"], p["target"], p["source"], p["previous_release"], p["reuse"]) == ("deploy", "green", "blue", "0.1.0", False)
    assert p["install"] == {"release": "0.2.0", "weight": 0, "running": True, "faults": {}}
    assert [s["weights"] for s in p["steps"]] == [{"green": 50, "blue": 50}, {"green": 100, "blue": 0}]
    auth = slots(state)["services"]["auth-service"]
    assert (auth["active"], auth["release"], auth["deployment_id"]) == ("green", "0.2.0", "deploy-1")
    assert auth["slots"]["blue"]["weight"] == 0 and auth["slots"]["blue"]["running"]
    assert len(slots(state)["instances"]) == 8
    assert slots(state)["services"]["ac-service"]["active"] == "blue"


def test_same_release_again_is_nothing_to_do():
    p, state = deployed()
    again = release.plan(slots(state)["services"]["auth-service"], "0.2.0", [50, 100])
    assert again == {"action": "none", "release": "0.2.0", "target": "green", "steps": []}


def test_rollback_reuses_the_kept_slot():
    p, state = deployed()
    back = release.plan(slots(state)["services"]["auth-service"], "0.1.0", [100])
    assert (back["target"], back["reuse"], back["install"]["weight"]) == ("blue", True, 0)
    assert back["steps"] == [{"percent": 100, "weights": {"blue": 100, "green": 0}}]


def test_not_keeping_the_old_slot_marks_it_stopped():
    p, state = deployed(keep_old=False)
    auth = slots(state)["services"]["auth-service"]
    assert auth["slots"]["blue"]["running"] is False
    assert [i["running"] for i in slots(state)["instances"] if i["name"] == "auth-service"] == [False, True]


def test_faults_go_to_the_new_release_only():
    p, state = deployed(faults={"error_rate": 0.3})
    auth = slots(state)["services"]["auth-service"]
    assert auth["slots"]["green"]["faults"] == {"error_rate": 0.3} and auth["slots"]["blue"]["faults"] == {}


@pytest.mark.parametrize("version", ["", "../etc", "a b", "-1", None, "x" * 65, "1..2"])
def test_bad_versions_are_refused(version):
    with pytest.raises(release.ReleaseError, match="acgs_release"):
        release.validate_version(version)


@pytest.mark.parametrize("steps", [[], [50], [0, 100], [60, 50, 100], [50, 150], ["x", 100], "100"])
def test_bad_steps_are_refused(steps):
    with pytest.raises(release.ReleaseError, match="acgs_blue_green_steps"):
        release.validate_steps(steps)


def test_update_refuses_unknown_slot_and_mode():
    with pytest.raises(release.ReleaseError, match="unknown slot"):
        release.update({}, "auth-service", "0.1.0", "promote", "red")
    with pytest.raises(release.ReleaseError, match="unknown mode"):
        release.update({}, "auth-service", "0.1.0", "swap", "blue")


def test_installed_plans_installs_every_deploying_service_at_weight_zero():
    services = slots()["services"]
    plans = {"auth-service": release.plan(services["auth-service"], "0.2.0", [100], {"error_rate": 0.3}),
             "ac-service": release.plan(services["ac-service"], "0.1.0", [100])}
    assert plans["ac-service"]["action"] == "none"
    state = release.installed_plans({}, plans, "0.1.0")
    assert sorted(state["services"]) == ["auth-service"]
    green = state["services"]["auth-service"]["slots"]["green"]
    assert green == {"release": "0.2.0", "weight": 0, "running": True, "faults": {"error_rate": 0.3}}
    assert state["services"]["auth-service"]["active"] == "blue"
    assert slots(state)["services"]["auth-service"]["slots"]["blue"]["weight"] == 100

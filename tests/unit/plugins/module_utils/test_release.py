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


def test_an_isolated_service_stays_stopped_at_weight_zero_with_its_releases():
    state = deployed("gs-service")[1]
    out = release.release_slots(build_catalog(), state, "0.1.0", ["gs-service"])
    gs = out["services"]["gs-service"]
    assert gs["isolated"] and (gs["active"], gs["release"]) == ("green", "0.2.0")
    assert [(s["release"], s["weight"], s["running"]) for s in (gs["slots"]["blue"], gs["slots"]["green"])] == [
        ("0.1.0", 0, False), ("0.2.0", 0, False)]
    assert [(i["slot"], i["running"], i["weight"]) for i in out["instances"] if i["name"] == "gs-service"] == [
        ("blue", False, 0), ("green", False, 0)]
    # the others as recorded
    assert not out["services"]["auth-service"]["isolated"]
    assert out["services"]["auth-service"]["slots"]["blue"]["weight"] == 100


def deployed(name="auth-service", to="0.2.0", keep_old=True, faults=None):
    current = slots()["services"][name]
    p = release.plan(current, to, [50, 100], faults)
    state = release.installed_plans({}, {name: p}, "0.1.0")
    return p, release.promoted_plans(state, {name: p}, [name], "0.1.0", "deploy-1", keep_old)


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


def test_promoted_plans_moves_a_wave_and_refuses_a_service_without_a_plan():
    services = slots()["services"]
    plans = dict((name, release.plan(services[name], "0.2.0", [100])) for name in ("auth-service", "ac-service"))
    state = release.promoted_plans(release.installed_plans({}, plans, "0.1.0"), plans, ["auth-service", "ac-service"],
                                   "0.1.0", "deploy-7")
    for name in ("auth-service", "ac-service"):
        assert (state["services"][name]["active"], state["services"][name]["release"]) == ("green", "0.2.0")
        assert state["services"][name]["deployment_id"] == "deploy-7"
    with pytest.raises(release.ReleaseError, match="gs-service has no deploy plan"):
        release.promoted_plans(state, plans, ["gs-service"], "0.1.0", "deploy-7")


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


def test_traffic_of_a_wave_at_a_step_and_back():
    p, _state = deployed()
    plans = {"auth-service": p, "ac-service": release.plan(release.service_state({}, "ac-service", "0.1.0"), "0.2.0", [50, 100])}
    half = release.traffic(plans, ["auth-service", "ac-service"], ["", "-2"], 50)
    assert [(s["server"], s["weight"]) for s in half[:4]] == [
        ("auth-service-green", 50), ("auth-service-green-2", 50), ("auth-service-blue", 50), ("auth-service-blue-2", 50)]
    assert all(s["backend"] == "be_" + s["server"].split("-")[0] + "-service" and s["state"] == "ready" for s in half)
    back = release.traffic(plans, ["ac-service"], [""], 0)
    assert back == [{"backend": "be_ac-service", "server": "ac-service-green", "weight": 0, "state": "ready"},
                    {"backend": "be_ac-service", "server": "ac-service-blue", "weight": 100, "state": "ready"}]
    with pytest.raises(release.ReleaseError, match="gs-service has no deploy plan"):
        release.traffic(plans, ["gs-service"], [""], 50)
    with pytest.raises(release.ReleaseError, match="outside"):
        release.traffic(plans, ["ac-service"], [""], 101)


@pytest.mark.parametrize("order, size, expected", [
    (["a", "b", "C", "D"], 0, [["a", "b"], ["C", "D"]]),
    (["C", "D", "a", "b"], 0, [["C", "D"], ["a", "b"]]),
    (["a", "b", "c", "D"], 2, [["a", "b"], ["c"], ["D"]]),
    (["a", "b", "C"], 1, [["a"], ["b"], ["C"]]),
    ([], 0, []),
])
def test_waves_are_runs_of_one_kind_cut_to_size(order, size, expected):
    assert release.waves(order, ["C", "D"], size) == expected


def test_waves_refuse_a_negative_size():
    with pytest.raises(release.ReleaseError, match="acgs_blue_green_wave_size"):
        release.waves(["a"], [], -1)

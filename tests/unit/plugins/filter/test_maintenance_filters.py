# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The maintenance filters: module_utils' answers, bad input as a filter error naming it, documented options."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import inspect

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.filter import maintenance_apt, maintenance_restarts, maintenance_trend, maintenance_window

FILTERS = [(maintenance_window, "maintenance_window"), (maintenance_apt, "maintenance_apt"),
           (maintenance_restarts, "maintenance_restarts"), (maintenance_trend, "maintenance_trend")]


@pytest.mark.parametrize("module, name", FILTERS)
def test_each_filter_documents_its_arguments(module, name):
    doc = yaml.safe_load(module.DOCUMENTATION)
    function = module.FilterModule().filters()[name]
    params = list(inspect.signature(function).parameters)[1:]
    assert doc["name"] == name
    assert doc["positional"].replace(" ", "").split(",") == params
    assert set(params) | set(["_input"]) == set(doc["options"])


def test_window_filter_answers_and_names_bad_input():
    window = {"weekday": "sunday", "start": "02:00", "minutes": 120}
    f = maintenance_window.FilterModule().filters()["maintenance_window"]
    assert f(window, "2026-11-28T06:21:00Z", 0, [], False, "weekly")["next_window_start"] == "2026-11-29T02:00:00Z"
    with pytest.raises(AnsibleFilterError, match=r"acgs.platform.maintenance_window: weekly.weekday"):
        f(dict(window, weekday="someday"), "2026-11-28T06:21:00Z", 0, [], False, "weekly")


def test_other_filters_name_bad_input():
    with pytest.raises(AnsibleFilterError, match="acgs.platform.maintenance_apt: "):
        maintenance_apt.maintenance_apt("", "(")
    with pytest.raises(AnsibleFilterError, match="acgs.platform.maintenance_restarts: "):
        maintenance_restarts.maintenance_restarts(["x"], [])
    with pytest.raises(AnsibleFilterError, match="acgs.platform.maintenance_trend: "):
        maintenance_trend.maintenance_trend({}, 1)

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The maintenance windows: inside or not, time left, next start, which tasks fit, bad input named."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import time

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _maintenance_window as mw

WEEKLY = {"weekday": "sunday", "start": "02:00", "minutes": 120}
MONTHLY = {"weekday": "sunday", "start": "02:00", "minutes": 120, "weeks": [1]}
# 2026-11: Sundays are the 1st, 8th, 15th, 22nd and 29th; 2026-12-06 is December's first Sunday.
TASKS = [{"name": "database", "expected_seconds": 300}, {"name": "backup_verification", "expected_seconds": 900}]


@pytest.mark.parametrize("text, expected", [
    ("2026-11-29T02:30:00Z", datetime.datetime(2026, 11, 29, 2, 30)),
    ("2026-11-29T02:30:00", datetime.datetime(2026, 11, 29, 2, 30)),
    ("2026-11-29 02:30", datetime.datetime(2026, 11, 29, 2, 30)),
    ("2026-11-29T03:30:00+01:00", datetime.datetime(2026, 11, 29, 2, 30)),
    ("2026-11-28T21:30:00-0500", datetime.datetime(2026, 11, 29, 2, 30)),
    ("2026-11-29T02:30:00.500Z", datetime.datetime(2026, 11, 29, 2, 30, 0, 500000)),
    (1795919400, datetime.datetime(2026, 11, 29, 2, 30)),
    ("1795919400.0", datetime.datetime(2026, 11, 29, 2, 30)),
])
def test_times_in_iso_8601_with_or_without_zone_or_epoch_are_utc(text, expected):
    assert mw.parse_time(text) == expected


@pytest.mark.parametrize("bad", ["tomorrow", "2026-13-01T00:00:00Z", "", True, None])
def test_a_bad_time_is_named(bad):
    with pytest.raises(mw.WindowError, match="at: .* is not a time"):
        mw.parse_time(bad, "at")


def test_inside_the_weekly_window_with_the_time_left():
    d = mw.decide(WEEKLY, "2026-11-29T02:30:00Z", name="weekly")
    assert d["inside"] and d["allowed"] and not d["forced"]
    assert d["window_start"] == "2026-11-29T02:00:00Z" and d["window_end"] == "2026-11-29T04:00:00Z"
    assert d["seconds_left"] == 5400
    assert d["next_window_start"] == "2026-12-06T02:00:00Z"


@pytest.mark.parametrize("at", ["2026-11-29T01:59:59Z", "2026-11-29T04:00:00Z", "2026-11-28T02:30:00Z", "2026-11-30T02:30:00Z"])
def test_outside_the_window_is_refused_naming_the_next_start(at):
    d = mw.decide(WEEKLY, at, name="weekly")
    assert not d["inside"] and not d["allowed"] and d["seconds_left"] is None
    expected = "2026-11-29T02:00:00Z" if at < "2026-11-29T02" else "2026-12-06T02:00:00Z"
    assert d["next_window_start"] == expected
    assert "next window starts %s (Sunday)" % expected in d["message"]
    assert "Sunday 02:00-04:00 UTC" in d["message"]


def test_the_start_is_inside_and_the_end_is_not():
    assert mw.decide(WEEKLY, "2026-11-29T02:00:00Z")["inside"]
    assert not mw.decide(WEEKLY, "2026-11-29T04:00:00Z")["inside"]


def test_elapsed_seconds_move_the_clock():
    d = mw.decide(WEEKLY, "2026-11-29T03:58:00Z", elapsed=150)
    assert not d["inside"] and d["now"] == "2026-11-29T04:00:30Z"
    d = mw.decide(WEEKLY, "2026-11-29T03:58:00Z", elapsed=60)
    assert d["inside"] and d["seconds_left"] == 60


def test_monthly_window_only_on_the_first_sunday():
    assert mw.decide(MONTHLY, "2026-11-01T03:00:00Z")["inside"]
    d = mw.decide(MONTHLY, "2026-11-29T02:30:00Z", name="monthly")
    assert not d["inside"]
    assert d["next_window_start"] == "2026-12-06T02:00:00Z"
    assert "first Sunday of the month" in d["schedule"]
    # December 2026: the 6th is the first Sunday, the 13th the second
    assert not mw.decide(MONTHLY, "2026-12-13T02:30:00Z")["inside"]
    assert mw.decide(MONTHLY, "2026-12-13T02:30:00Z")["next_window_start"] == "2027-01-03T02:00:00Z"


def test_a_window_past_midnight():
    late = {"weekday": "saturday", "start": "23:00", "minutes": 180}
    d = mw.decide(late, "2026-11-29T01:00:00Z")  # Sunday 01:00, inside Saturday's window
    assert d["inside"] and d["window_start"] == "2026-11-28T23:00:00Z" and d["seconds_left"] == 3600
    assert not mw.decide(late, "2026-11-29T02:00:00Z")["inside"]


def test_tasks_that_do_not_fit_in_what_is_left_are_named():
    d = mw.decide(WEEKLY, "2026-11-29T03:50:00Z", tasks=TASKS)
    assert d["fitting"] == ["database"] and d["not_fitting"] == ["backup_verification"]
    reason = [t for t in d["tasks"] if t["name"] == "backup_verification"][0]["reason"]
    assert "expected 900s but only 600s of the window left" in reason


def test_a_task_that_exactly_fits_fits():
    d = mw.decide(WEEKLY, "2026-11-29T03:55:00Z", tasks=[{"name": "database", "expected_seconds": 300}])
    assert d["fitting"] == ["database"]


def test_outside_no_task_fits_and_forced_every_task_fits_and_it_says_so():
    d = mw.decide(WEEKLY, "2026-11-28T06:21:00Z", tasks=TASKS)
    assert d["not_fitting"] == ["database", "backup_verification"] and not d["allowed"]
    d = mw.decide(WEEKLY, "2026-11-28T06:21:00Z", tasks=TASKS, force=True, name="weekly")
    assert d["allowed"] and d["forced"] and not d["inside"]
    assert d["fitting"] == ["database", "backup_verification"]
    assert d["message"].startswith("forced (acgs_maintenance_force): ")
    assert "next window starts 2026-11-29T02:00:00Z" in d["message"]
    d = mw.decide(WEEKLY, "2026-11-29T03:59:00Z", tasks=TASKS, force=True)
    assert d["inside"] and d["fitting"] == ["database", "backup_verification"]


@pytest.mark.parametrize("spec, message", [
    ({"weekday": "sundy", "start": "02:00", "minutes": 120}, r"weekly.weekday: 'sundy' is not a weekday"),
    ({"weekday": "sunday", "start": "25:00", "minutes": 120}, r"weekly.start: '25:00' is not a time of day HH:MM"),
    ({"weekday": "sunday", "start": "2am", "minutes": 120}, r"weekly.start: '2am'"),
    ({"weekday": "sunday", "start": "02:00", "minutes": 0}, r"weekly.minutes: 0 is out of range"),
    ({"weekday": "sunday", "start": "02:00", "minutes": "two hours"}, r"weekly.minutes: 'two hours' is not a number"),
    ({"weekday": "sunday", "start": "02:00", "minutes": 120, "weeks": [6]}, r"weekly.weeks: \[6\]: each must be 1 to 5"),
    ({"weekday": "sunday", "start": "02:00", "minutes": 120, "days": 1}, r"weekly: unknown key\(s\) days"),
    ("sunday", r"weekly: expected a dict"),
])
def test_a_bad_window_is_named(spec, message):
    with pytest.raises(mw.WindowError, match=message):
        mw.decide(spec, "2026-11-29T02:30:00Z", name="weekly")


@pytest.mark.parametrize("task, message", [
    ({"expected_seconds": 5}, r"each task needs a name"),
    ({"name": "database", "expected_seconds": "soon"}, r"task database: expected_seconds 'soon' is not a number"),
    ({"name": "database", "expected_seconds": -1}, r"task database: expected_seconds -1 is negative"),
])
def test_a_bad_task_is_named(task, message):
    with pytest.raises(mw.WindowError, match=message):
        mw.decide(WEEKLY, "2026-11-29T02:30:00Z", tasks=[task])


def test_the_real_clock_gives_a_consistent_answer():
    at = time.time()
    now = mw.parse_time(at)
    d = mw.decide(WEEKLY, at)
    assert d["inside"] == (now.weekday() == 6 and 2 <= now.hour < 4)
    assert mw.parse_time(d["next_window_start"]) > now

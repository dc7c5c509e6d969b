# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the ACGS maintenance windows (the runbook's "Sundays 2:00-4:00 UTC").

A window is a weekday, a start time (UTC) and a length in minutes, optionally only on some
occurrences of that weekday in the month (``weeks: [1]``: the first Sunday). ``decide`` says
whether a time is inside a window, how much of it is left, when the next one starts, and which
tasks fit in what is left given their expected durations. The acgs.platform.maintenance_window
filter calls it; playbooks/maintenance.yml (roles/maintenance, actions weekly and monthly) asks
it before the run and again before each task. Times are UTC throughout. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EPOCH = datetime.datetime(1970, 1, 1)
# How far ahead the next window is looked for (a window on the 5th Sunday only is at most
# about a year away).
HORIZON_DAYS = 400

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*(Z|UTC|[+-]\d{2}:?\d{2})?$", re.I)
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


class WindowError(ValueError):
    """A window or a time that cannot be read; the message names what is wrong."""


def parse_time(value, what="time"):
    """A UTC ``datetime`` (naive) from epoch seconds or ISO 8601 text (``Z``, an offset, or no zone: UTC)."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.replace(tzinfo=None) - value.utcoffset()
        return value
    if isinstance(value, bool):
        raise WindowError("%s: %r is not a time" % (what, value))
    if isinstance(value, (int, float)):
        return EPOCH + datetime.timedelta(seconds=float(value))
    text = str(value).strip()
    if re.match(r"^-?\d+(\.\d+)?$", text):
        return EPOCH + datetime.timedelta(seconds=float(text))
    match = _ISO.match(text)
    if not match:
        raise WindowError("%s: %r is not a time (expected ISO 8601 such as 2026-11-29T02:30:00Z, or epoch seconds)" % (what, value))
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError as exc:
        raise WindowError("%s: %r is not a time (%s)" % (what, value, exc))
    if fraction:
        moment += datetime.timedelta(seconds=float(fraction))
    if zone and zone.upper() not in ("Z", "UTC"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        moment -= sign * offset
    return moment


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def epoch(moment):
    return (moment - EPOCH).total_seconds()


def parse_window(spec, name="window"):
    """The window ``{weekday, start, minutes, weeks}`` checked and normalised; errors name the field."""
    if not isinstance(spec, dict):
        raise WindowError("%s: expected a dict with weekday, start and minutes, got %r" % (name, spec))
    unknown = sorted(set(spec) - set(["weekday", "start", "minutes", "weeks"]))
    if unknown:
        raise WindowError("%s: unknown key(s) %s (expected weekday, start, minutes, weeks)" % (name, ", ".join(unknown)))
    weekday = str(spec.get("weekday", "")).strip().lower()
    if weekday not in WEEKDAYS:
        raise WindowError("%s.weekday: %r is not a weekday (expected one of %s)" % (name, spec.get("weekday"), ", ".join(WEEKDAYS)))
    match = _HHMM.match(str(spec.get("start", "")).strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise WindowError("%s.start: %r is not a time of day HH:MM (UTC)" % (name, spec.get("start")))
    try:
        minutes = int(spec.get("minutes"))
    except (TypeError, ValueError):
        raise WindowError("%s.minutes: %r is not a number of minutes" % (name, spec.get("minutes")))
    if not 1 <= minutes <= 1440:
        raise WindowError("%s.minutes: %d is out of range (1 to 1440)" % (name, minutes))
    weeks = spec.get("weeks") or []
    if not isinstance(weeks, (list, tuple)):
        weeks = [weeks]
    try:
        weeks = sorted(set(int(w) for w in weeks))
    except (TypeError, ValueError):
        raise WindowError("%s.weeks: %r is not a list of week numbers 1 to 5" % (name, spec.get("weeks")))
    if any(w < 1 or w > 5 for w in weeks):
        raise WindowError("%s.weeks: %r: each must be 1 to 5 (the n-th %s of the month)" % (name, spec.get("weeks"), weekday))
    return {"weekday": weekday, "start": "%02d:%02d" % (int(match.group(1)), int(match.group(2))),
            "minutes": minutes, "weeks": weeks}


def describe(window):
    """``first Sunday of the month 02:00-04:00 UTC``, ``Sunday 02:00-04:00 UTC``."""
    hour, minute = [int(x) for x in window["start"].split(":")]
    end = datetime.datetime(2000, 1, 1, hour, minute) + datetime.timedelta(minutes=window["minutes"])
    ordinals = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}
    day = window["weekday"].capitalize()
    if window["weeks"]:
        day = "%s %s of the month" % (" and ".join(ordinals[w] for w in window["weeks"]), day)
    return "%s %s-%s UTC (%d min)" % (day, window["start"], end.strftime("%H:%M"), window["minutes"])


def _starts_on(window, day):
    """The window's start on ``day`` (a date), or None when it has none that day."""
    if WEEKDAYS[day.weekday()] != window["weekday"]:
        return None
    if window["weeks"] and (day.day - 1) // 7 + 1 not in window["weeks"]:
        return None
    hour, minute = [int(x) for x in window["start"].split(":")]
    return datetime.datetime(day.year, day.month, day.day, hour, minute)


def current(window, now):
    """(start, end) of the window ``now`` is in, or None. A window may run past midnight."""
    length = datetime.timedelta(minutes=window["minutes"])
    for back in (1, 0):
        start = _starts_on(window, (now - datetime.timedelta(days=back)).date())
        if start is not None and start <= now < start + length:
            return start, start + length
    return None


def next_start(window, now):
    """The first window start strictly after ``now``."""
    day = now.date()
    for dummy in range(HORIZON_DAYS):
        start = _starts_on(window, day)
        if start is not None and start > now:
            return start
        day += datetime.timedelta(days=1)
    raise WindowError("no %s window in the next %d days" % (describe(window), HORIZON_DAYS))


def _expected(task, name):
    if not isinstance(task, dict) or not task.get("name"):
        raise WindowError("%s: each task needs a name and expected_seconds, got %r" % (name, task))
    try:
        seconds = float(task.get("expected_seconds"))
    except (TypeError, ValueError):
        raise WindowError("%s: task %s: expected_seconds %r is not a number" % (name, task["name"], task.get("expected_seconds")))
    if seconds < 0:
        raise WindowError("%s: task %s: expected_seconds %r is negative" % (name, task["name"], task.get("expected_seconds")))
    return seconds


def decide(spec, at, elapsed=0, tasks=None, force=False, name="window"):
    """Whether a maintenance run may go on at ``at`` + ``elapsed`` seconds, and which tasks fit.

    Inside the window each task fits when its expected duration is at most the time left; tasks
    are judged one by one from the same moment (ask again before each task). With ``force`` the
    window neither refuses nor limits: every task fits, and the result says it was forced.
    """
    window = parse_window(spec, name)
    try:
        elapsed = float(elapsed or 0)
    except (TypeError, ValueError):
        raise WindowError("elapsed: %r is not a number of seconds" % (elapsed,))
    now = parse_time(at, "at") + datetime.timedelta(seconds=elapsed)
    inside = current(window, now)
    following = next_start(window, now)
    left = (inside[1] - now).total_seconds() if inside else None
    force = bool(force)
    judged = []
    for task in tasks or []:
        expected = _expected(task, name)
        if inside and not force:
            fits = expected <= left
            reason = ("expected %ds, %ds of the window left" % (expected, left)) if fits else \
                ("expected %ds but only %ds of the window left (it ends %s)" % (expected, left, iso(inside[1])))
        elif force:
            fits = True
            reason = "forced: the window does not limit it"
        else:
            fits = False
            reason = "outside the window"
        judged.append({"name": task["name"], "expected_seconds": expected, "fits": fits, "reason": reason})
    allowed = bool(inside) or force
    if inside:
        message = "inside the %s window %s (%s to %s), %ds left" % (name, describe(window), iso(inside[0]), iso(inside[1]), left)
        if force:
            message += "; forced: the window does not limit the tasks"
    else:
        message = "%s is outside the %s window %s; the next window starts %s (%s)" % (
            iso(now), name, describe(window), iso(following), WEEKDAYS[following.weekday()].capitalize())
        if force:
            message = "forced (acgs_maintenance_force): " + message
    return {
        "window": name,
        "schedule": describe(window),
        "now": iso(now),
        "now_epoch": epoch(now),
        "weekday": WEEKDAYS[now.weekday()],
        "inside": bool(inside),
        "forced": force,
        "allowed": allowed,
        "window_start": iso(inside[0]) if inside else None,
        "window_end": iso(inside[1]) if inside else None,
        "seconds_left": round(left, 3) if inside else None,
        "next_window_start": iso(following),
        "tasks": judged,
        "fitting": [t["name"] for t in judged if t["fits"]],
        "not_fitting": [t["name"] for t in judged if not t["fits"]],
        "message": message,
    }

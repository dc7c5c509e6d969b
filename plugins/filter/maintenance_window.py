# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: maintenance_window
author: ACGS Operations Team (@acgs)
version_added: 0.1.0
short_description: Whether a time is inside an ACGS maintenance window, the time left, and which tasks fit
description:
  - A window is a weekday, a start time of day in UTC and a length in minutes, optionally only on some occurrences of
    that weekday in the month (C(weeks) V([1]) is the first Sunday). A window may run past midnight.
  - Says whether O(at) plus O(elapsed) seconds is inside the window, how many seconds of it are left, when the next
    window starts, and for each of O(tasks) whether its expected duration fits in what is left.
  - With O(force) the window neither refuses nor limits the run; every task fits and the result says it was forced.
  - The maintenance role (actions V(weekly), V(monthly)) asks before the run and again before each task.
positional: at, elapsed, tasks, force, name
options:
  _input:
    description: The window, C({weekday, start, minutes, weeks}) (C(start) is C(HH:MM) UTC; C(weeks) optional, 1 to 5).
    type: dict
    required: true
  at:
    description: The time judged - ISO 8601 (C(Z), an offset, or no zone for UTC) or epoch seconds.
    type: raw
    required: true
  elapsed:
    description: Seconds added to O(at) (the run's elapsed time when O(at) is the run's start or an injected clock).
    type: float
    default: 0
  tasks:
    description: Tasks to judge, each C({name, expected_seconds}).
    type: list
    elements: dict
    default: []
  force:
    description: Run whatever the window says (recorded as forced).
    type: bool
    default: false
  name:
    description: The window's name in messages (V(weekly), V(monthly)).
    type: str
    default: window
"""

EXAMPLES = r"""
- name: Is it the weekly window now?
  ansible.builtin.set_fact:
    window: "{{ {'weekday': 'sunday', 'start': '02:00', 'minutes': 120}
      | acgs.platform.maintenance_window(now(utc=true).timestamp(), 0, [{'name': 'database', 'expected_seconds': 300}]) }}"

- name: Refuse outside it, naming the next window
  ansible.builtin.fail:
    msg: "{{ window.message }}"
  when: not window.allowed
"""

RETURN = r"""
_value:
  description: The decision.
  type: dict
  contains:
    allowed:
      description: Inside the window, or forced.
      type: bool
    inside:
      description: O(at) + O(elapsed) is inside the window.
      type: bool
    forced:
      description: O(force) was given.
      type: bool
    now:
      description: The time judged, ISO 8601 UTC.
      type: str
    window_start:
      description: Start of the window the time is in (null outside).
      type: str
    window_end:
      description: End of the window the time is in (null outside).
      type: str
    seconds_left:
      description: Seconds of the window left (null outside).
      type: float
    next_window_start:
      description: The next window's start after the time judged.
      type: str
      sample: "2026-11-29T02:00:00Z"
    schedule:
      description: The window in words.
      type: str
      sample: Sunday 02:00-04:00 UTC (120 min)
    tasks:
      description: Each task of O(tasks) with C(fits) and C(reason).
      type: list
      elements: dict
    fitting:
      description: Names of the tasks that fit.
      type: list
      elements: str
    not_fitting:
      description: Names of the tasks that do not fit.
      type: list
      elements: str
    message:
      description: The decision in words; outside the window it names the next window's start.
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.acgs.platform.plugins.module_utils._maintenance_window import WindowError, decide


def maintenance_window(window, at, elapsed=0, tasks=None, force=False, name="window"):
    try:
        return decide(window, at, elapsed, tasks, force, name)
    except WindowError as exc:
        raise AnsibleFilterError("acgs.platform.maintenance_window: %s" % exc)


class FilterModule(object):

    def filters(self):
        return {"maintenance_window": maintenance_window}

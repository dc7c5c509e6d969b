# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""run_or_restore with real signals sent to this process: the canary and traffic modules' guard."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import signal

import pytest

from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.plugins.module_utils._signals import Interrupted, run_or_restore


@pytest.fixture
def own_handlers():
    """The caller's handlers: run_or_restore must hand them back."""
    def mine(_signum, _frame):
        raise AssertionError("the caller's handler ran")

    before = dict((signum, signal.signal(signum, mine)) for signum in (signal.SIGINT, signal.SIGTERM))
    yield mine
    for signum, handler in before.items():
        signal.signal(signum, handler)


def test_finished_work_returns_its_value_and_restores_nothing(own_handlers):
    restored = []
    assert run_or_restore(lambda: ("promoted", "why"), lambda: restored.append(1)) == (("promoted", "why"), None, None)
    assert restored == []
    assert signal.getsignal(signal.SIGTERM) is own_handlers and signal.getsignal(signal.SIGINT) is own_handlers


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_restores_once_and_a_second_signal_does_not_cut_the_restore_short(own_handlers, signum):
    steps = []

    def work():
        steps.append("work")
        os.kill(os.getpid(), signum)
        steps.append("went on after the signal")

    def restore():
        os.kill(os.getpid(), signum)  # a second cancel while traffic is put back: ignored
        steps.append("restored")

    assert run_or_restore(work, restore) == (None, "interrupted by %s" % signal.Signals(signum).name, None)
    assert steps == ["work", "restored"]
    assert signal.getsignal(signum) is own_handlers


def test_an_operator_error_restores_and_a_failed_restore_is_reported(own_handlers):
    def work():
        raise OperatorError("HAProxy refused 'set weight'")

    def restore():
        raise OperatorError("the runtime API socket is gone")

    assert run_or_restore(work, restore) == (None, "HAProxy refused 'set weight'", "the runtime API socket is gone")
    assert signal.getsignal(signal.SIGTERM) is own_handlers


def test_an_unexpected_error_puts_traffic_back_too_and_is_named(own_handlers):
    restored = []
    value, cause, again = run_or_restore(lambda: {}["stable"], lambda: restored.append(1))
    assert (value, cause, again, restored) == (None, "KeyError: 'stable'", None, [1])
    assert signal.getsignal(signal.SIGTERM) is own_handlers


def test_interrupted_passes_through_code_that_catches_every_exception():
    """A webhook or Prometheus call that turns any Exception into a result must let the signal by."""
    def swallowing():
        try:
            raise Interrupted(signal.SIGTERM)
        except Exception:  # pylint: disable=broad-except
            return "swallowed"

    with pytest.raises(Interrupted):
        swallowing()

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: a change to live traffic that SIGINT or SIGTERM (AWX's cancel, Ctrl-C) or a failure
interrupts is put back, once, without a second signal cutting the putting back short.

Shared by acgs_canary and acgs_traffic (HAProxy weights and states) and acgs_canary_replicas
(Deployment replicas). Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import signal

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError


class Interrupted(BaseException):
    """SIGINT or SIGTERM while traffic is being moved: the caller puts it back.

    A BaseException, as KeyboardInterrupt: code that turns any Exception into a result
    (the HTTP GET of a webhook or a Prometheus query) must not swallow the signal."""

    def __init__(self, signum):
        super(Interrupted, self).__init__(signum)
        self.signum = signum


def run_or_restore(work, restore):
    """Run ``work()`` with SIGINT and SIGTERM raised as Interrupted. When it is interrupted or
    raises (an OperatorError, or a bug: traffic is put back all the same), both signals are ignored
    while ``restore()`` runs; the handlers the caller had come back afterwards either way.

    Returns ``(value, cause, restore_error)``: ``work()``'s value and two Nones when it finished;
    otherwise None, what stopped it ("interrupted by SIGTERM", an OperatorError's text, or another
    exception's type and text), and None when ``restore()`` put everything back or the text of
    the OperatorError it raised."""
    def on_signal(signum, _frame):
        raise Interrupted(signum)

    previous = dict((signum, signal.signal(signum, on_signal)) for signum in (signal.SIGINT, signal.SIGTERM))
    try:
        return work(), None, None
    except (Interrupted, Exception) as err:  # pylint: disable=broad-except
        for signum in previous:
            signal.signal(signum, signal.SIG_IGN)
        if isinstance(err, Interrupted):
            cause = "interrupted by %s" % signal.Signals(err.signum).name
        elif isinstance(err, OperatorError):
            cause = to_native(err)
        else:
            cause = "%s: %s" % (type(err).__name__, to_native(err))
        try:
            restore()
        except OperatorError as again:
            return None, cause, to_native(again)
        return None, cause, None
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: failures put into words an operator understands.

The one scrubber that keeps secrets out of every message, the classification of
network errors (refused, timeout, TLS, ...) and the exception the modules report
without a traceback. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import socket
import ssl

from ansible.module_utils.common.text.converters import to_native


class OperatorError(Exception):
    """A failure whose message is fit for the operator (no secret, no traceback).

    ``kind`` classifies it (auth, refused, timeout, ...); ``detail`` is the message
    without the context a caller may have added around it.
    """

    def __init__(self, message, kind="error", detail=None):
        super(OperatorError, self).__init__(message)
        self.kind = kind
        self.detail = message if detail is None else detail


def scrub(text, secrets):
    """``text`` (str or bytes) with every secret replaced, so a password never reaches output."""
    text = to_native(text)
    for secret in secrets or ():
        if secret:
            text = text.replace(to_native(secret), "********")
    return text


def _walk_causes(exc):
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        nxt = getattr(exc, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = exc.__cause__ or exc.__context__
        exc = nxt
    return seen


def fmt_seconds(value):
    """``2`` for 2.0, ``2.5`` for 2.5: timeouts as the operator wrote them."""
    value = float(value)
    return ("%d" % value) if value == int(value) else ("%g" % value)


def describe_error(exc, timeout=None):
    """(kind, message) for a failed connection or request.

    kind is one of refused, unreachable, timeout, reset, dns, tls, closed, error.
    """
    chain = _walk_causes(exc)
    for item in chain:
        if isinstance(item, ssl.SSLCertVerificationError):
            detail = getattr(item, "verify_message", None) or to_native(item)
            return "tls", "TLS certificate verification failed: %s" % detail
    for item in chain:
        if isinstance(item, ssl.SSLError):
            return "tls", "TLS handshake failed: %s" % to_native(item)
    for item in chain:
        if isinstance(item, (socket.timeout, TimeoutError)):
            if timeout is not None:
                return "timeout", "timed out after %ss" % fmt_seconds(timeout)
            return "timeout", "timed out"
        if isinstance(item, socket.gaierror):
            return "dns", "host name could not be resolved: %s" % to_native(item)
        if isinstance(item, ConnectionRefusedError):
            return "refused", "connection refused"
        if type(item).__name__ == "RemoteDisconnected":
            return "closed", "server closed the connection without a response"
        if isinstance(item, ConnectionResetError):
            return "reset", "connection reset by peer"
        if isinstance(item, (BrokenPipeError, ConnectionAbortedError)):
            return "reset", "connection closed by peer (%s)" % to_native(item)
        if isinstance(item, OSError) and item.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL):
            return "unreachable", "host unreachable: %s" % (item.strerror or to_native(item))
    for item in chain:
        name = type(item).__name__
        if name in ("RemoteDisconnected", "IncompleteRead", "BadStatusLine"):
            return "closed", "server closed the connection without a complete response"
    last = chain[-1] if chain else exc
    return "error", to_native(last) or type(last).__name__

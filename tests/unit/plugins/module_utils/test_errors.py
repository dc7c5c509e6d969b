# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failures in words: the scrubber, network error classes, OperatorError."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import ssl

from ansible_collections.acgs.platform.plugins.module_utils import _errors


def test_scrub_removes_secrets():
    assert _errors.scrub("failed for s3cret at s3cret", ["s3cret", None, ""]) == "failed for ******** at ********"
    assert _errors.scrub(b"stderr: s3cret\xff", ["s3cret"]).startswith("stderr: ********")


def test_describe_error_classes():
    assert _errors.describe_error(ConnectionRefusedError(111, "x"))[0] == "refused"
    assert _errors.describe_error(ConnectionResetError(104, "x"))[0] == "reset"
    assert _errors.describe_error(socket.timeout("timed out"), 2.5) == ("timeout", "timed out after 2.5s")
    assert _errors.describe_error(socket.timeout("timed out"), 2.0) == ("timeout", "timed out after 2s")
    assert _errors.describe_error(OSError(101, "Network is unreachable"))[0] == "unreachable"
    assert _errors.describe_error(socket.gaierror(-2, "Name or service not known"))[0] == "dns"
    err = ssl.SSLCertVerificationError(1, "certificate verify failed")
    err.verify_message = "self-signed certificate"
    assert _errors.describe_error(err) == ("tls", "TLS certificate verification failed: self-signed certificate")
    assert _errors.describe_error(ValueError("odd")) == ("error", "odd")


def test_operator_error_kind_and_detail():
    err = _errors.OperatorError("cannot connect to X at h:1: connection refused", "refused", "connection refused")
    assert (str(err), err.kind, err.detail) == ("cannot connect to X at h:1: connection refused", "refused", "connection refused")
    plain = _errors.OperatorError("query failed")
    assert (plain.kind, plain.detail) == ("error", "query failed")

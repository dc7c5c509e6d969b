# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the probing modules: bad values are named."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _probe_args
from ansible_collections.acgs.platform.plugins.module_utils._probe_args import ProbeError


def common(**kwargs):
    params = dict((key, spec.get("default")) for key, spec in _probe_args.probe_common_argument_spec().items())
    params.update(kwargs)
    return params


def test_spec_is_a_fresh_copy():
    spec = _probe_args.probe_common_argument_spec()
    spec["timeout"]["default"] = 99
    assert _probe_args.probe_common_argument_spec()["timeout"]["default"] == 5.0
    _probe_args.validate_common(common())


@pytest.mark.parametrize("key, value", [("timeout", 0), ("retries", -1), ("retry_delay", -1), ("max_workers", 0),
                                        ("host", "a b"), ("host", "")])
def test_common_validation_names_parameter(key, value):
    with pytest.raises(ProbeError, match=key):
        _probe_args.validate_common(common(**{key: value}))


def test_client_key_needs_client_cert():
    with pytest.raises(ProbeError, match="client_key"):
        _probe_args.validate_common(common(client_key="/k"))


@pytest.mark.parametrize("url", ["ftp://x", "127.0.0.1:8000", "http://", "", None, "http:///path"])
def test_bad_url_is_named(url):
    with pytest.raises(ProbeError, match=r"services\[0\]\.url"):
        _probe_args.validate_url(url, "services[0].url")


@pytest.mark.parametrize("path", ["a..b", ".a", "a.", 5])
def test_bad_json_path_is_named(path):
    with pytest.raises(ProbeError, match="json_path"):
        _probe_args.validate_path(path, "json_path")


def test_good_url_and_path():
    assert _probe_args.validate_url(" https://h:9000/x ", "url") == "https://h:9000/x"
    assert _probe_args.validate_path("data.constitutional_hash", "json_path") == "data.constitutional_hash"

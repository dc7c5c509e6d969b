# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the options acgs_health and acgs_hash_check share, and their validation.

Documented by the acgs.platform.probe fragment. Bad input raises ProbeError with a
message that names the parameter. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.acgs.platform.plugins.module_utils.catalog import DEFAULT_HOST

_COMMON_ARGUMENT_SPEC = dict(
    host=dict(type="str", default=DEFAULT_HOST),
    use_tls=dict(type="bool", default=False),
    timeout=dict(type="float", default=5.0),
    retries=dict(type="int", default=0),
    retry_delay=dict(type="float", default=1.0),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    client_cert=dict(type="path"),
    client_key=dict(type="path", no_log=False),
    use_proxy=dict(type="bool", default=True),
    max_workers=dict(type="int", default=100),
)


class ProbeError(ValueError):
    """Bad input: the message names the parameter at fault."""


def probe_common_argument_spec():
    """A fresh copy of the argument spec shared by the probing modules."""
    return copy.deepcopy(_COMMON_ARGUMENT_SPEC)


def validate_common(params):
    """Raise ProbeError naming the first common option with an impossible value."""
    if params.get("timeout") is None or params["timeout"] <= 0:
        raise ProbeError("timeout must be a positive number of seconds, got %r" % (params.get("timeout"),))
    if params.get("retries") is None or params["retries"] < 0:
        raise ProbeError("retries must be 0 or more, got %r" % (params.get("retries"),))
    if params.get("retry_delay") is None or params["retry_delay"] < 0:
        raise ProbeError("retry_delay must be 0 or more seconds, got %r" % (params.get("retry_delay"),))
    if params.get("max_workers") is None or params["max_workers"] < 1:
        raise ProbeError("max_workers must be at least 1, got %r" % (params.get("max_workers"),))
    if params.get("client_key") and not params.get("client_cert"):
        raise ProbeError("client_key is given without client_cert")
    host = params.get("host")
    if not host or any(c.isspace() for c in host) or "/" in host:
        raise ProbeError("host %r is not a host name or address" % (host,))


def validate_url(url, what):
    """Return the URL, or raise ProbeError naming ``what`` when it is not http(s)."""
    text = to_text(url or "").strip()
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest or rest.startswith("/"):
        raise ProbeError("%s %r is not an http:// or https:// URL" % (what, url))
    return text


def validate_path(path, what):
    """Raise ProbeError when a JSON path has empty segments."""
    if path is None:
        return path
    if not isinstance(path, str) or any(seg == "" for seg in path.split(".")):
        raise ProbeError("%s %r is not a dotted JSON path such as data.constitutional_hash" % (what, path))
    return path

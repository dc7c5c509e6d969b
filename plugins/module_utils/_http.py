# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: HTTP for the probing modules.

A GET that never raises (it returns what happened, with the error put into words
an operator understands), the TLS context of the probe options, and look-ups in
the JSON bodies of the answers. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import ssl
import threading
import time

from urllib import request as urllib_request
from urllib.error import HTTPError

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.acgs.platform.plugins.module_utils._errors import describe_error
from ansible_collections.acgs.platform.plugins.module_utils._probe_run import elapsed_ms

MAX_BODY = 1024 * 1024
USER_AGENT = "acgs.platform-probe/1.0"


def join_url(base, path):
    """The base URL with ``path`` appended (no doubled or missing slash)."""
    if not path:
        return base
    if path.startswith("http://") or path.startswith("https://"):
        return path
    return base.rstrip("/") + "/" + path.lstrip("/")


class HttpResult(object):
    """What one GET did: status and body, or the error in words."""

    __slots__ = ("url", "status", "headers", "body", "latency_ms", "error", "error_kind")

    def __init__(self, url):
        self.url = url
        self.status = None
        self.headers = {}
        self.body = b""
        self.latency_ms = None
        self.error = None
        self.error_kind = None

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        """(data, error): the parsed JSON body, or None and why not."""
        return parse_json(self.body)


_OPENERS = {}
_OPENERS_LOCK = threading.Lock()


def ssl_context(options):
    """An SSL context for the TLS options (one per set of options, shared by the probes)."""
    context = ssl.create_default_context(cafile=options.get("ca_path")) if options.get("ca_path") \
        else ssl.create_default_context()
    if not options.get("validate_certs", True):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if options.get("client_cert"):
        context.load_cert_chain(options["client_cert"], options.get("client_key"))
    return context


def _opener(options, https):
    """A urllib opener for the options, built once: building SSL contexts costs CPU per probe."""
    key = (bool(https), bool(options.get("use_proxy", True)), bool(options.get("validate_certs", True)),
           options.get("ca_path"), options.get("client_cert"), options.get("client_key"))
    with _OPENERS_LOCK:
        opener = _OPENERS.get(key)
        if opener is None:
            handlers = []
            if not options.get("use_proxy", True):
                handlers.append(urllib_request.ProxyHandler({}))
            if https:
                handlers.append(urllib_request.HTTPSHandler(context=ssl_context(options)))
            opener = urllib_request.build_opener(*handlers)
            _OPENERS[key] = opener
    return opener


def http_get(url, options, extra_headers=None):
    """GET ``url``; never raises. ``options`` holds the common module options."""
    result = HttpResult(url)
    timeout = options.get("timeout") or 5.0
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    headers.update(extra_headers or {})
    start = time.monotonic()
    response = None
    try:
        opener = _opener(options, url.lower().startswith("https:"))
        request = urllib_request.Request(url, headers=headers, method="GET")
        try:
            response = opener.open(request, timeout=timeout)
        except HTTPError as err:
            response = err
        result.status = int(response.getcode())
        result.headers = dict((k.lower(), v) for k, v in response.headers.items()) if response.headers else {}
        result.body = response.read(MAX_BODY) or b""
    except Exception as err:  # pylint: disable=broad-except
        # the GET never raises: whatever went wrong is the result's error
        result.error_kind, result.error = describe_error(err, timeout)
    finally:
        result.latency_ms = elapsed_ms(start)
        try:
            if response is not None:
                response.close()
        except Exception:  # pylint: disable=broad-except
            pass
    return result


def parse_json(body):
    """(data, error) for a response body."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            return None, "response body is not UTF-8 text"
    if not body or not body.strip():
        return None, "response body is empty (expected JSON)"
    try:
        return json.loads(body), None
    except ValueError as err:
        return None, "response body is not valid JSON (%s)" % to_native(err)


_MISSING = object()


def get_path(data, path):
    """(found, value) for a dotted path such as ``data.constitutional_hash``.

    Integer segments index lists (``checks.0.status``). An empty path is the
    whole document.
    """
    if path is None or path == "":
        return True, data
    current = data
    for segment in str(path).split("."):
        if isinstance(current, dict):
            current = current.get(segment, _MISSING)
        elif isinstance(current, list):
            try:
                current = current[int(segment)]
            except (ValueError, IndexError):
                current = _MISSING
        else:
            current = _MISSING
        if current is _MISSING:
            return False, None
    return True, current

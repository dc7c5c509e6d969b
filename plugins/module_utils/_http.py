# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private helpers shared by acgs_health and acgs_hash_check.

An HTTP GET that never raises (it returns what happened, with the error put into
words an operator understands), JSON path look-ups, concurrency and the common
argument spec of the probing modules. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import errno
import json
import socket
import ssl
import threading
import time

from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPException
from urllib import request as urllib_request
from urllib.error import HTTPError, URLError

from ansible.module_utils.common.text.converters import to_native, to_text

MAX_BODY = 1024 * 1024
USER_AGENT = "acgs.platform-probe/1.0"

# Options every probing module accepts, documented in the acgs.platform.probe fragment.
_COMMON_ARGUMENT_SPEC = dict(
    host=dict(type="str", default="127.0.0.1"),
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


def join_url(base, path):
    """The base URL with ``path`` appended (no doubled or missing slash)."""
    if not path:
        return base
    if path.startswith("http://") or path.startswith("https://"):
        return path
    return base.rstrip("/") + "/" + path.lstrip("/")


def elapsed_ms(start):
    return int(round((time.monotonic() - start) * 1000))


def scrub(text, secrets):
    """``text`` with every secret replaced, so a password never reaches output."""
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
                return "timeout", "timed out after %ss" % _fmt_seconds(timeout)
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


def _fmt_seconds(value):
    value = float(value)
    return ("%d" % value) if value == int(value) else ("%g" % value)


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
    except (URLError, OSError, ValueError, HTTPException) as err:
        result.error_kind, result.error = describe_error(err, timeout)
    except Exception as err:  # pylint: disable=broad-except
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


def validate_path(path, what):
    """Raise ProbeError when a JSON path has empty segments."""
    if path is None:
        return path
    if not isinstance(path, str) or any(seg == "" for seg in path.split(".")):
        raise ProbeError("%s %r is not a dotted JSON path such as data.constitutional_hash" % (what, path))
    return path


def with_retries(func, retries, retry_delay, ok):
    """Call ``func`` until ``ok(result)`` or the retries are spent; (result, attempts)."""
    attempts = 0
    while True:
        attempts += 1
        result = func()
        if ok(result) or attempts > retries:
            return result, attempts
        if retry_delay:
            time.sleep(retry_delay)


def run_concurrently(calls, max_workers):
    """Run the zero-argument callables at once; their results in the same order."""
    calls = list(calls)
    if not calls:
        return []
    if len(calls) == 1:
        return [calls[0]()]
    workers = max(1, min(int(max_workers), len(calls)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: supervisord's XML-RPC interface over its UNIX socket (what supervisorctl talks to).

Only the standard library: no supervisor package is needed on the host. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket

try:
    import http.client as httplib
    import xmlrpc.client as xmlrpclib
except ImportError:  # Python 2 (never a controller here; kept importable for sanity)
    import httplib  # type: ignore[no-redef]
    import xmlrpclib  # type: ignore[no-redef]

from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError

# supervisord's process states (supervisor.states.ProcessStates) by name.
RUNNING_STATES = ("STARTING", "RUNNING", "BACKOFF", "STOPPING")
STOPPED_STATES = ("STOPPED", "EXITED", "FATAL")


class _UnixConnection(httplib.HTTPConnection):
    def __init__(self, path, timeout):
        httplib.HTTPConnection.__init__(self, "localhost", timeout=timeout)
        self._path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


class _UnixTransport(xmlrpclib.Transport):
    def __init__(self, path, timeout):
        xmlrpclib.Transport.__init__(self)
        self._path = path
        self._timeout = timeout

    def make_connection(self, host):
        return _UnixConnection(self._path, self._timeout)


class Supervisor(object):
    """supervisord's RPC on ``path``; every failure is an OperatorError naming the call."""

    def __init__(self, path, timeout=10.0):
        self.path = path
        self._proxy = xmlrpclib.ServerProxy("http://localhost/RPC2", transport=_UnixTransport(path, timeout))

    def _call(self, name, *args):
        try:
            return getattr(self._proxy.supervisor, name)(*args)
        except xmlrpclib.Fault as err:
            raise OperatorError("supervisord %s%r: %s" % (name, args, err.faultString), kind="supervisor",
                                detail=err.faultString)
        except (socket.error, OSError, httplib.HTTPException) as err:
            raise OperatorError("supervisord at %s: %s (is supervisord running?)" % (self.path, err), kind="refused")

    def process_info(self, program):
        """getProcessInfo: name, statename, pid, exitstatus, ..."""
        return self._call("getProcessInfo", program)

    def stopwaitsecs(self):
        """{program: stopwaitsecs} of every configured program."""
        return dict((entry["name"], int(entry.get("stopwaitsecs", 10))) for entry in self._call("getAllConfigInfo"))

    def _call_unless(self, fault, name, *args):
        """_call, but False when supervisord answers with ``fault`` (nothing to do), else True."""
        try:
            self._call(name, *args)
        except OperatorError as err:
            if err.kind == "supervisor" and fault in err.detail:
                return False
            raise
        return True

    def stop(self, program):
        """stopProcess without waiting: supervisord sends the program's stopsignal and marks it STOPPING,
        so it does not restart it. False when it was not running any more (nothing to stop)."""
        return self._call_unless("NOT_RUNNING", "stopProcess", program, False)

    def start(self, program):
        """startProcess, waiting until supervisord sees it RUNNING (after the program's startsecs)."""
        return self._call("startProcess", program, True)

    def start_nowait(self, program):
        """startProcess without waiting out startsecs; False when it already runs (nothing to start)."""
        return self._call_unless("ALREADY_STARTED", "startProcess", program, False)

    def update(self, stopped, timeout):
        """What ``supervisorctl update`` does, with the stops at once instead of one after another:
        re-read the configuration, stop and unload removed and changed programs, load changed and
        added ones (supervisord starts those with autostart). ``stopped(names, timeout)`` waits
        for the stops. Returns (added, changed, removed) program names."""
        added, changed, removed = self._call("reloadConfig")[0]
        leaving = list(changed) + list(removed)
        for name in leaving:
            self.stop(name)
        stopped(leaving, timeout)
        for name in leaving:
            self._call("removeProcessGroup", name)
        for name in list(changed) + list(added):
            self._call("addProcessGroup", name)
        return list(added), list(changed), list(removed)

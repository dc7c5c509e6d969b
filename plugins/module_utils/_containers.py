# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: Docker containers for acgs_shutdown's stop loop (_shutdown.stop_all), the services' docker runtime.

What a supervisord program is to the supervisor runtime, a container is here: its main process has a
PID on the host (``State.Pid``), so the same loop polls it and SIGKILLs it at its timeout. The stop
signal goes through ``docker stop`` started in the background with a long timeout: the engine sends
SIGTERM and records the container as stopped by the user (a restart policy such as unless-stopped
does not start it again); the loop's own SIGKILL ends it when it has not drained in time, and the
exit code comes from the engine. The docker CLI is the client (no SDK). Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import subprocess
import time

from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError

# docker stop gets the module's timeout plus this; the loop kills first, so the engine never does.
STOP_MARGIN = 30.0
# After the process is gone, the engine records the exit within a moment.
EXIT_WAIT = 5.0


class Docker(object):
    """The containers of one engine, through the docker CLI (``docker`` on PATH)."""

    def __init__(self, timeout, docker="docker", run=subprocess.run, popen=subprocess.Popen):
        self.docker = docker
        self.stop_timeout = int(float(timeout) + STOP_MARGIN)
        self._run = run
        self._popen = popen
        self.stopping = {}

    def state(self, name):
        """The container's State (Running, Pid, ExitCode, Status...); None when there is no such container."""
        try:
            done = self._run([self.docker, "inspect", "--type", "container", "--format", "{{json .State}}", name],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
        except OSError as err:
            raise OperatorError("cannot run %s: %s" % (self.docker, err))
        if done.returncode != 0:
            if "No such" in done.stderr or "no such" in done.stderr:
                return None
            raise OperatorError("docker inspect %s: %s" % (name, done.stderr.strip()))
        return json.loads(done.stdout)

    def process_info(self, name):
        """(running, host PID) of the container's main process; OperatorError when it does not exist."""
        state = self.state(name)
        if state is None:
            raise OperatorError("no container named %s" % name)
        running = bool(state.get("Running")) and int(state.get("Pid") or 0) > 0
        return running, int(state.get("Pid") or 0) if running else 0

    def stop(self, name):
        """Start ``docker stop`` in the background (SIGTERM now, marked stopped by the user)."""
        try:
            self.stopping[name] = self._popen([self.docker, "stop", "--time", str(self.stop_timeout), name],
                                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except OSError as err:
            raise OperatorError("cannot run %s stop %s: %s" % (self.docker, name, err))
        return True

    def exitstatus(self, name, pid=None, clock=time.monotonic, sleep=time.sleep):
        """The container's exit code once the engine has it (137 after SIGKILL); None if not within EXIT_WAIT."""
        deadline = clock() + EXIT_WAIT
        while True:
            state = self.state(name)
            if state is None or not state.get("Running"):
                return None if state is None else int(state.get("ExitCode", 0))
            if clock() >= deadline:
                return None
            sleep(0.05)

    def wait(self, bound=EXIT_WAIT):
        """Reap the background docker stop calls (they return once their container exited); their errors."""
        errors = []
        deadline = time.monotonic() + bound
        for name, proc in sorted(self.stopping.items()):
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                errors.append("%s: docker stop did not return" % name)
                continue
            if proc.returncode != 0:
                err = proc.stderr.read().decode("utf-8", "replace").strip() if proc.stderr else ""
                errors.append("%s: docker stop failed: %s" % (name, err))
        self.stopping = {}
        return errors

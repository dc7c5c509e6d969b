# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_containers (acgs_shutdown's runtime=docker) on the real Docker engine: a container that drains on
SIGTERM and one that ignores it, stopped at once by _shutdown.stop_all; skipped where no engine answers or
the base image (acgs_image_base, made by the release role's image action) is not there. The module runs
on the services' containers in the docker_runtime integration target."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shutil
import subprocess
import time
import uuid

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _shutdown as shutdown
from ansible_collections.acgs.platform.plugins.module_utils._containers import Docker
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError

IMAGE = "acgs-base:bookworm"
# Each says "ready" once its SIGTERM handler is installed.
CLEAN = "import signal, sys, time\nsignal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\nprint('ready', flush=True)\ntime.sleep(60)\n"
DEAF = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\ntime.sleep(60)\n"
# The clean one's timeout: long, as under load `docker stop` may take seconds to deliver SIGTERM
# (a 2 s timeout once killed it before its signal came); the deaf one is killed at 2 s.
CLEAN_TIMEOUT = 30.0


def engine_ready():
    if not shutil.which("docker"):
        return False
    done = subprocess.run(["docker", "image", "inspect", IMAGE], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return done.returncode == 0


pytestmark = pytest.mark.skipif(not engine_ready(), reason="no Docker engine with the image %s" % IMAGE)


@pytest.fixture
def containers():
    names = []

    def run(code):
        name = "acgs-unit-%s" % uuid.uuid4().hex[:10]
        subprocess.run(["docker", "run", "-d", "--name", name, "--restart", "unless-stopped", "--network", "none",
                        IMAGE, "python3", "-c", code], stdout=subprocess.DEVNULL, check=True)
        names.append(name)
        return name

    yield run
    for name in names:
        subprocess.run(["docker", "rm", "-f", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def wait_ready(name, bound=30.0):
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        done = subprocess.run(["docker", "logs", name], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, check=False)
        if "ready" in done.stdout:
            return
        time.sleep(0.1)
    pytest.fail("%s did not install its SIGTERM handler within %s s" % (name, bound))


def test_unknown_container():
    docker = Docker(5)
    assert docker.state("acgs-unit-no-such-container") is None
    with pytest.raises(OperatorError, match="no container named acgs-unit-no-such-container"):
        docker.process_info("acgs-unit-no-such-container")


def test_drained_and_killed_at_once_and_left_stopped(containers):
    clean, deaf = containers(CLEAN), containers(DEAF)
    for name in (clean, deaf):
        wait_ready(name)
    docker = Docker(CLEAN_TIMEOUT)
    procs = []
    for name, timeout in ((clean, CLEAN_TIMEOUT), (deaf, 2.0)):
        running, pid = docker.process_info(name)
        assert running and pid > 0
        procs.append({"program": name, "pid": pid, "timeout": timeout, "service": name, "slot": "", "port": None, "host": "127.0.0.1"})
    results, seconds = shutdown.stop_all(procs, docker.stop, docker.exitstatus)
    assert docker.wait() == []
    how = dict((r["program"], (r["how"], r["exitstatus"])) for r in results)
    assert how == {clean: ("drained", 0), deaf: ("killed", 137)}
    # at once: the clean one drained when its signal came, long before its own timeout
    assert seconds < CLEAN_TIMEOUT / 2
    time.sleep(1)  # a restart policy would have started them again by now
    assert [docker.process_info(name)[0] for name in (clean, deaf)] == [False, False]

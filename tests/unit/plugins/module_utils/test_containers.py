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
CLEAN = "import signal, sys, time\nsignal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\ntime.sleep(60)\n"
DEAF = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(60)\n"


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


def test_unknown_container():
    docker = Docker(5)
    assert docker.state("acgs-unit-no-such-container") is None
    with pytest.raises(OperatorError, match="no container named acgs-unit-no-such-container"):
        docker.process_info("acgs-unit-no-such-container")


def test_drained_and_killed_at_once_and_left_stopped(containers):
    clean, deaf = containers(CLEAN), containers(DEAF)
    time.sleep(0.5)  # the interpreters install their handlers
    docker = Docker(2)
    procs = []
    for name in (clean, deaf):
        running, pid = docker.process_info(name)
        assert running and pid > 0
        procs.append({"program": name, "pid": pid, "timeout": 2.0, "service": name, "slot": "", "port": None, "host": "127.0.0.1"})
    results, seconds = shutdown.stop_all(procs, docker.stop, docker.exitstatus)
    assert docker.wait() == []
    how = dict((r["program"], (r["how"], r["exitstatus"])) for r in results)
    assert how == {clean: ("drained", 0), deaf: ("killed", 137)}
    assert seconds < 2.0 + 5.0
    time.sleep(1)  # a restart policy would have started them again by now
    assert [docker.process_info(name)[0] for name in (clean, deaf)] == [False, False]

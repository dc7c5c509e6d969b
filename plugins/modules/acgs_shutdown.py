#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: acgs_shutdown
short_description: Stop supervisord programs, Docker containers or systemd units at once, bounded in time, SIGKILL what does not stop
version_added: 0.1.0
description:
  - Stops every program of O(instances) at the same time through supervisord's XML-RPC interface
    (C(stopProcess) without waiting); supervisord sends the program's stop signal (SIGTERM for the
    ACGS services, which then drain their requests in flight) and marks it stopping, so it does not
    restart it.
  - Each process is then polled (its C(/proc/PID/stat); a zombie or a reused PID counts as gone) until
    it is gone or O(timeout) seconds have passed since its signal; then the module sends it SIGKILL
    itself. A hung process (stopped with SIGSTOP, or ignoring SIGTERM) is killed at its timeout; a
    process SIGKILL does not remove within 5 seconds fails the task.
  - supervisord kills a program itself when its C(stopwaitsecs) passes; the module kills half a second
    before that, so that every kill is its own and reported (the timeout used is in the result).
  - How each one stopped - V(drained) (it exited with status 0 after its stop signal; the ACGS
    services drain on SIGTERM and exit 0), V(terminated) (it died of the signal or exited with another
    status), V(killed) (SIGKILL), V(not running) - and after how many seconds.
  - Finally every O(instances[].port) must be closed (refused connections within 2 seconds), or the
    task fails naming it.
  - With O(runtime=docker) each O(instances[].program) is a container (the services' docker runtime); C(docker stop)
    runs for each at once in the background (the engine sends SIGTERM and records it as stopped, so its restart
    policy does not start it again), its main process is polled and SIGKILLed at O(timeout) the same way, and
    the exit code is the engine's (0 drained, 137 after SIGKILL).
  - With O(runtime=systemd) each O(instances[].program) is the unit C(PROGRAM.service) (the services' systemd
    runtime); C(systemctl stop --no-block) for each at once (systemd sends the unit's KillSignal and, the stop
    being asked for, C(Restart=on-failure) does not start it again), its C(MainPID) is polled and SIGKILLed at
    O(timeout) the same way, and the exit status is systemd's (0 drained, 137 after SIGKILL).
author:
  - ACGS Operations Team (@acgs)
attributes:
  check_mode:
    support: full
    description: Reads which programs run (and their PIDs and the timeouts that would apply); signals nothing.
  diff_mode:
    support: none
    description: No diff is returned.
options:
  instances:
    description: The programs to stop, each with the port its process listens on.
    type: list
    elements: dict
    required: true
    suboptions:
      program:
        description: The supervisord program name (the container name with O(runtime=docker), the unit without C(.service) with O(runtime=systemd)).
        type: str
        required: true
      port:
        description: TCP port the process listens on; it must be closed at the end.
        type: int
      host:
        description: Address of O(instances[].port).
        type: str
        default: 127.0.0.1
      service:
        description: The service it belongs to, for the summary.
        type: str
      slot:
        description: The instance slot (blue, green), for the summary.
        type: str
  timeout:
    description: Seconds a process gets after its stop signal before SIGKILL (capped by the program's stopwaitsecs).
    type: float
    default: 30
  supervisor_socket:
    description: supervisord's UNIX socket (C([unix_http_server] file)).
    type: path
    default: /var/run/supervisor.sock
  runtime:
    description: What runs the instances - supervisord programs, Docker containers (the C(docker) CLI on the host), or systemd units.
    type: str
    choices: [supervisor, docker, systemd]
    default: supervisor
requirements:
  - supervisord with its UNIX socket (C([unix_http_server])), the C(docker) CLI and engine with O(runtime=docker), or systemd as
    PID 1 with O(runtime=systemd); Linux (C(/proc)).
seealso:
  - module: community.general.supervisorctl
  - module: community.docker.docker_container
"""

EXAMPLES = r"""
- name: Stop two instances; 30 s to drain, then SIGKILL
  acgs.platform.acgs_shutdown:
    instances:
      - {program: acgs-auth-service-blue, port: 18000, service: auth-service, slot: blue}
      - {program: acgs-auth-service-green, port: 18100, service: auth-service, slot: green}
    timeout: 30
  register: stopped

- name: Stop the containers of the docker runtime; 10 s to drain, then SIGKILL
  acgs.platform.acgs_shutdown:
    runtime: docker
    instances:
      - {program: acgs-auth-service-blue, port: 18000, service: auth-service, slot: blue}
    timeout: 10

- name: Stop the units of the systemd runtime (acgs-auth-service-blue.service); 10 s to drain, then SIGKILL
  acgs.platform.acgs_shutdown:
    runtime: systemd
    instances:
      - {program: acgs-auth-service-blue, port: 18000, service: auth-service, slot: blue}
    timeout: 10

- name: Emergency - 3 s, then SIGKILL
  acgs.platform.acgs_shutdown:
    instances: "{{ my_instances }}"
    timeout: 3
"""

RETURN = r"""
instances:
  description: Every instance, in the order given, with how it stopped.
  returned: always
  type: list
  elements: dict
  contains:
    program: {description: The supervisord program., type: str}
    service: {description: Its service., type: str}
    slot: {description: Its slot., type: str}
    pid: {description: Its PID when the module started (0 when not running)., type: int}
    port: {description: Its port., type: int}
    how: {description: "V(drained), V(terminated), V(killed), V(not running) (check mode: V(would stop)).", type: str}
    seconds: {description: From its stop signal until it was gone., type: float}
    timeout: {description: The seconds it was given before SIGKILL., type: float}
    killed_at: {description: "Seconds after its stop signal when it was SIGKILLed, or null.", type: float}
    state_before: {description: "Its /proc state when signalled (S sleeping, T stopped, D uninterruptible).", type: str}
    exitstatus: {description: "Its exit status as supervisord saw it (-1 - died of a signal); a container's exit code.", type: int}
  sample:
    - {program: acgs-gs-service-blue, service: gs-service, slot: blue, pid: 1234, port: 18004, how: killed,
       seconds: 3.02, timeout: 3.0, killed_at: 3.0, state_before: T, exitstatus: -1}
killed:
  description: Programs that were SIGKILLed.
  returned: always
  type: list
  elements: str
ports_open:
  description: Ports still accepting connections at the end (the task then fails).
  returned: always
  type: list
  elements: str
seconds:
  description: Wall time of the whole stop, in seconds.
  returned: always
  type: float
summary:
  description: A table, one line per instance - service, slot, how it stopped, seconds.
  returned: always
  type: list
  elements: str
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.acgs.platform.plugins.module_utils import _shutdown as shutdown
from ansible_collections.acgs.platform.plugins.module_utils._containers import Docker
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.plugins.module_utils._supervisor import STOPPED_STATES, RUNNING_STATES, Supervisor
from ansible_collections.acgs.platform.plugins.module_utils._units import Units

# After a process is gone, supervisord reaps it and records its exit status within a moment.
REAP_WAIT = 5.0


def main():
    module = AnsibleModule(
        argument_spec=dict(
            instances=dict(type="list", elements="dict", required=True, options=dict(
                program=dict(type="str", required=True),
                port=dict(type="int"),
                host=dict(type="str", default="127.0.0.1"),
                service=dict(type="str"),
                slot=dict(type="str"),
            )),
            timeout=dict(type="float", default=30.0),
            supervisor_socket=dict(type="path", default="/var/run/supervisor.sock"),
            runtime=dict(type="str", default="supervisor", choices=["supervisor", "docker", "systemd"]),
        ),
        supports_check_mode=True,
    )
    result = {"instances": [], "killed": [], "ports_open": [], "seconds": 0.0, "summary": []}
    try:
        instances = shutdown.validate(module.params["instances"])
        if module.params["runtime"] == "docker":
            docker = Docker(module.params["timeout"], docker=module.get_bin_path("docker", required=True))
            procs = [dict(inst, pid=docker.process_info(inst["program"])[1], timeout=shutdown.effective_timeout(module.params["timeout"]))
                     for inst in instances]
        elif module.params["runtime"] == "systemd":
            units = Units(systemctl=module.get_bin_path("systemctl", required=True))
            states = dict((inst["program"], units.process_info(inst["program"])) for inst in instances)
            procs = [dict(inst, pid=states[inst["program"]][1], timeout=shutdown.effective_timeout(module.params["timeout"]))
                     for inst in instances]
        else:
            rpc = Supervisor(module.params["supervisor_socket"])
            waits = rpc.stopwaitsecs()
            procs = []
            for inst in instances:
                info = rpc.process_info(inst["program"])
                running = info["statename"] in RUNNING_STATES and info["pid"] > 0
                procs.append(dict(inst, pid=info["pid"] if running else 0,
                                  timeout=shutdown.effective_timeout(module.params["timeout"], waits.get(inst["program"]))))
        if module.check_mode:
            result["instances"] = [dict(p, how="would stop" if p["pid"] else "not running", seconds=0.0,
                                        killed_at=None, state_before=None, exitstatus=None) for p in procs]
            result["summary"] = shutdown.table(result["instances"])
            module.exit_json(changed=any(p["pid"] for p in procs), **result)

        def exitstatus(program, pid):
            deadline = time.monotonic() + REAP_WAIT
            while True:
                info = rpc.process_info(program)
                if info["statename"] in STOPPED_STATES or time.monotonic() >= deadline:
                    return info["exitstatus"] if info["statename"] in STOPPED_STATES else None
                time.sleep(0.05)

        if module.params["runtime"] == "docker":
            # A container restarting (its restart policy) has no process to wait for; stop it too.
            for proc in procs:
                if not proc["pid"] and (docker.state(proc["program"]) or {}).get("Restarting"):
                    docker.stop(proc["program"])
            results, seconds = shutdown.stop_all(procs, docker.stop, docker.exitstatus)
            stop_errors = docker.wait()
        elif module.params["runtime"] == "systemd":
            stop_errors = []
            # A unit waiting to be started again (Restart=, "activating") has no process to wait for; stop it too.
            for proc in procs:
                if not proc["pid"] and states[proc["program"]][0] in ("activating", "reloading"):
                    units.stop(proc["program"])
            results, seconds = shutdown.stop_all(procs, units.stop, units.exitstatus)
        else:
            stop_errors = []
            # Programs supervisord is starting or backing off have no process to wait for; stop them too,
            # or supervisord would start them again.
            for proc in procs:
                if not proc["pid"]:
                    rpc.stop(proc["program"])
            results, seconds = shutdown.stop_all(procs, rpc.stop, exitstatus)
        result.update(instances=results, seconds=seconds, summary=shutdown.table(results),
                      killed=[r["program"] for r in results if r["how"] == "killed"])
        survived = [r["program"] for r in results if r["how"].startswith("survived")]
        result["ports_open"] = shutdown.open_ports(instances)
        if survived or result["ports_open"] or stop_errors:
            raise OperatorError("not stopped: %s" % ", ".join(
                ["%s (%s)" % (p, "survived SIGKILL") for p in survived] + ["port %s still open" % p for p in result["ports_open"]]
                + stop_errors))
    except OperatorError as err:
        module.fail_json(msg=to_native(err), changed=bool(result["instances"]), **result)
    changed = any(r["how"] != "not running" for r in result["instances"])
    counts = dict((how, sum(1 for r in result["instances"] if r["how"] == how)) for how in shutdown.HOW)
    module.exit_json(changed=changed, msg="%d stopped in %.2fs: %s" % (
        sum(counts[h] for h in ("drained", "terminated", "killed")), result["seconds"],
        ", ".join("%d %s" % (n, how) for how, n in counts.items() if n)), **result)


if __name__ == "__main__":
    main()

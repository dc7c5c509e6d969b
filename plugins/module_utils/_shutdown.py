# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: stopping many processes at once, bounded in time (acgs_shutdown's logic).

Each process gets its stop signal, is polled (``/proc/PID/stat``, a zombie counts as gone, a
PID reused by another process too) until it is gone or its timeout passes, then SIGKILLed; how
each one stopped and after how many seconds; the ports that must then be closed. The signal
and the exit status come from callables, so the same loop runs under supervisord (the module)
and on plain child processes (the unit tests). Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import signal
import socket
import time

from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError

HOW = ("drained", "terminated", "killed", "not running")
# A process SIGKILL does not remove within this many seconds is in uninterruptible sleep
# (state D, stuck in the kernel): reported, the run fails.
KILL_WAIT = 5.0


def validate(instances):
    """The instances as [{program, port, host, service, slot}]; OperatorError naming the entry."""
    out, seen = [], set()
    for index, entry in enumerate(instances or []):
        where = "instances[%d]" % index
        program = entry.get("program")
        if not program:
            raise OperatorError("%s needs program (the supervisor program)" % where)
        if program in seen:
            raise OperatorError("%s: program %s is named twice" % (where, program))
        seen.add(program)
        port = entry.get("port")
        if port is not None:
            try:
                port = int(port)
            except (TypeError, ValueError):
                raise OperatorError("%s.port %r is not a port number" % (where, port))
            if not 0 < port < 65536:
                raise OperatorError("%s.port %d is not a port number" % (where, port))
        out.append({"program": program, "port": port, "host": entry.get("host") or "127.0.0.1",
                    "service": entry.get("service") or program, "slot": entry.get("slot") or ""})
    if not out:
        raise OperatorError("instances is empty: name at least one program")
    return out


def parse_stat(text):
    """(state, start time in clock ticks) from the text of /proc/PID/stat."""
    # The command name (field 2) is in parentheses and may hold spaces and ')'.
    rest = text[text.rindex(")") + 2:].split()
    return rest[0], int(rest[19])


def process_state(pid):
    """(state, start time) of a live process; None when it is gone or a zombie (exited, not yet reaped)."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            state, started = parse_stat(handle.read())
    except (IOError, OSError):
        return None
    return None if state in ("Z", "X", "x") else (state, started)


def effective_timeout(timeout, stopwaitsecs=None, margin=0.5):
    """The seconds a process gets after its stop signal: ``timeout``, but before the process manager's
    own SIGKILL (``stopwaitsecs``), so that the kill is ours and reported as such."""
    timeout = max(0.0, float(timeout))
    if stopwaitsecs is None:
        return timeout
    return max(0.0, min(timeout, float(stopwaitsecs) - margin))


def classify(killed, exitstatus):
    """How a process that was signalled stopped: killed (our SIGKILL), drained (its own clean exit,
    status 0: the ACGS services drain on SIGTERM and exit 0), terminated (anything else: it died of
    the signal, or exited with another status)."""
    if killed:
        return "killed"
    return "drained" if exitstatus == 0 else "terminated"


def stop_all(procs, terminate, exitstatus, clock=time.monotonic, kill=os.kill, state=process_state,
             poll=0.05, kill_wait=KILL_WAIT):
    """Stop every proc of ``procs`` ([{program, pid, timeout}]) and return them with
    ``how``, ``seconds`` (stop signal to gone), ``state_before`` (its /proc state when signalled:
    T = stopped, D = uninterruptible) and ``exitstatus``, in the same order.

    ``terminate(program)`` sends the stop signal (False: it was not running any more);
    ``exitstatus(program, pid)`` is read once the process is gone. All are signalled first,
    then polled together every ``poll`` seconds, so the whole takes the longest timeout, not the sum.
    """
    started = clock()
    live = {}
    results = []
    for proc in procs:
        result = dict(proc, how="not running", seconds=0.0, state_before=None, exitstatus=None, killed_at=None)
        results.append(result)
        now = state(proc["pid"]) if proc.get("pid") else None
        if now is None:
            continue
        result["state_before"] = now[0]
        result["_started"] = now[1]
        result["_signalled"] = clock()
        if terminate(proc["program"]) is False and state(proc["pid"]) is None:
            continue
        live[proc["program"]] = result
    while live:
        now = clock()
        for program in list(live):
            result = live[program]
            here = state(result["pid"])
            if here is None or here[1] != result["_started"]:
                result["seconds"] = round(clock() - result["_signalled"], 3)
                del live[program]
                continue
            if result["killed_at"] is None and now - result["_signalled"] >= result["timeout"]:
                try:
                    kill(result["pid"], signal.SIGKILL)
                except OSError as err:
                    if err.errno != errno.ESRCH:
                        raise OperatorError("%s: cannot SIGKILL pid %d: %s" % (program, result["pid"], err))
                result["killed_at"] = round(now - result["_signalled"], 3)
            elif result["killed_at"] is not None and now - result["_signalled"] - result["killed_at"] > kill_wait:
                result["seconds"] = round(now - result["_signalled"], 3)
                result["how"] = "survived SIGKILL (state %s)" % here[0]
                del live[program]
        if live:
            time.sleep(poll)
    for result in results:
        if "_signalled" in result and not result["how"].startswith("survived"):
            result["exitstatus"] = exitstatus(result["program"], result["pid"])
            result["how"] = classify(result["killed_at"] is not None, result["exitstatus"])
        result.pop("_started", None)
        result.pop("_signalled", None)
    return results, round(clock() - started, 3)


def stop_pids(procs, stop=stop_all):
    """Stop processes that no supervisor runs (``procs``: [{program, pid, timeout, ...}]), each by its pid:
    SIGTERM, then SIGKILL at its timeout (stop_all). Returns them with how and seconds; fails naming those
    that survived SIGKILL."""
    # stop_all tracks each proc by its "program": one key per process, as a program may have left several
    keyed, pids = [], {}
    for proc in procs:
        key = "%s (pid %d)" % (proc["program"], proc["pid"])
        keyed.append(dict(proc, program=key, _program=proc["program"]))
        pids[key] = proc["pid"]

    def terminate(key):
        try:
            os.kill(pids[key], signal.SIGTERM)
        except OSError:
            return False
        return True

    stopped, _seconds = stop(keyed, terminate, lambda key, pid: None)
    alive = ["%s: %s" % (s["program"], s["how"]) for s in stopped if s["how"].startswith("survived")]
    if alive:
        raise OperatorError("processes still running after SIGKILL: %s" % "; ".join(alive))
    return [dict(dict((k, v) for k, v in s.items() if k not in ("_program", "killed_at", "state_before", "exitstatus", "timeout")),
                 program=s["_program"]) for s in stopped]


def port_open(host, port, timeout=0.5):
    """Whether host:port may still be open: only a refused connection proves it closed (a timeout
    may be a full accept queue of a process that is still there)."""
    try:
        conn = socket.create_connection((host, port), timeout=timeout)
    except (socket.error, OSError) as err:
        return getattr(err, "errno", None) != errno.ECONNREFUSED
    conn.close()
    return True


def open_ports(instances, bound=2.0, clock=time.monotonic, poll=0.05):
    """The host:port of the instances still accepting connections after up to ``bound`` seconds."""
    deadline = clock() + bound
    pending = [(i["host"], i["port"]) for i in instances if i.get("port")]
    while True:
        pending = [hp for hp in pending if port_open(*hp)]
        if not pending or clock() >= deadline:
            return ["%s:%d" % hp for hp in pending]
        time.sleep(poll)


def table(results):
    """The summary lines: service, slot, how it stopped, seconds."""
    lines = ["%-22s %-6s %-12s %8s" % ("service", "slot", "stopped", "seconds")]
    for r in results:
        lines.append("%-22s %-6s %-12s %8.2f" % (r["service"], r["slot"], r["how"], r["seconds"]))
    return lines

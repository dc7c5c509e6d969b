# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The programs a killed supervisord left running.

When supervisord dies (SIGKILL, the OOM killer) its programs live on, reparented to init, and keep
their ports: the programs a new supervisord starts cannot bind (NATS, the exporters, the remediation
receiver go FATAL), while a check of the port passes against the orphans. An orphan is a process
whose command line is a program's ``command=`` and that no supervisord has among its ancestors. On a
systemd host a process of another unit than supervisor.service (Debian's runs supervisord with
KillMode=process, so its programs outlive it in its cgroup) is that unit's, whatever its command line.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import configparser
import glob
import os
import shlex

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.plugins.module_utils._pidfiles import process, runs

# supervisord's default stopwaitsecs
STOPWAITSECS = 10


def programs(conf_dir):
    """{program: (argv, stopwaitsecs)} of the [program:x] sections of conf_dir/*.conf."""
    found = {}
    for path in sorted(glob.glob(os.path.join(conf_dir, "*.conf"))):
        parser = configparser.RawConfigParser()
        try:
            parser.read(path)
        except configparser.Error as err:
            raise OperatorError("%s: not a supervisord program file: %s" % (path, to_native(err)))
        for section in parser.sections():
            if not section.startswith("program:") or not parser.has_option(section, "command"):
                continue
            command = parser.get(section, "command")
            if "%(" in command:  # supervisord's own expansions: not a command line to compare
                continue
            wait = parser.get(section, "stopwaitsecs") if parser.has_option(section, "stopwaitsecs") else STOPWAITSECS
            found[section.split(":", 1)[1]] = (shlex.split(command), float(wait))
    return found


def processes(proc="/proc"):
    """{pid: (ppid, argv)} of every process with a command line (kernel threads have none)."""
    table = {}
    for entry in os.listdir(proc):
        found = process(int(entry), proc) if entry.isdigit() else None
        if found and found[1]:
            table[int(entry)] = found
    return table


def systemd_unit(pid, proc="/proc"):
    """The systemd service whose cgroup holds ``pid`` (e.g. nats-server.service), or None."""
    try:
        with open(os.path.join(proc, str(pid), "cgroup")) as handle:
            paths = [line.rstrip("\n").split(":", 2)[2] for line in handle if line.count(":") >= 2]
    except OSError:
        return None
    units = [part for path in paths for part in path.split("/") if part.endswith(".service")]
    return units[-1] if units else None


def find(conf_dir, supervisord, proc="/proc"):
    """The orphans: [{program, pid, timeout, command}] of processes that run a program's command line (after
    an interpreter's, for a script) and have no supervisord (its program file ``supervisord``) among their
    ancestors."""
    wanted = programs(conf_dir)
    if not wanted:
        return []
    table = processes(proc)
    supervised = {}

    def under_supervisord(pid):
        seen = []
        while pid > 1 and pid in table and pid not in supervised:
            seen.append(pid)
            if runs(pid, supervisord, proc)[0]:
                supervised[pid] = True
                break
            pid = table[pid][0]
        verdict = supervised.get(pid, False)
        for one in seen:
            supervised[one] = verdict
        return verdict

    orphans = []
    for pid, (_ppid, argv) in sorted(table.items()):
        for program, (command, wait) in sorted(wanted.items()):
            # a script's command runs as its interpreter's: the kernel puts the #! line's argv first
            if argv[-len(command):] == command and not under_supervisord(pid) and systemd_unit(pid, proc) in (None, "supervisor.service"):
                orphans.append({"program": program, "pid": pid, "timeout": wait, "command": " ".join(argv)})
    return orphans

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A daemon's pid file after a crash: whose is its pid now.

Debian's SysV scripts (``status_of_proc``) take any live process with the file's pid for the daemon
(``kill -0``). After a killed machine, pids are reused (pid_max is 32768 here), so a start found the
daemon "running" and did nothing. The pid is the daemon's only when its process runs the daemon's
program: the same file as /proc/PID/exe, or as its first or second argument (an interpreted daemon
such as supervisord runs python3 with the program as its argument).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.module_utils.common.text.converters import to_native


def read_pid(path):
    """The pid the file names; None when it is missing; 0 when it names none (empty, not a number)."""
    try:
        with open(path, "rb") as handle:
            first = handle.read(64).split(b"\n")[0].strip()
    except FileNotFoundError:
        return None
    return int(first) if first.isdigit() and int(first) > 0 else 0


def _same_file(a, b):
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def process(pid, proc="/proc"):
    """(ppid, argv) of the live process ``pid`` (argv empty for a zombie or a kernel thread), or None when
    there is none (also when it is gone while read)."""
    base = os.path.join(proc, str(pid))
    try:
        with open(os.path.join(base, "cmdline"), "rb") as handle:
            argv = [to_native(arg) for arg in handle.read().split(b"\0") if arg]
        with open(os.path.join(base, "stat"), "rb") as handle:
            ppid = int(handle.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return ppid, argv


def holder(pid, proc="/proc"):
    """(argv, exe) of the live process ``pid``, or None when there is none."""
    found = process(pid, proc)
    return None if found is None else (found[1], os.path.join(proc, str(pid), "exe"))


def runs(pid, executable, proc="/proc"):
    """(whether ``pid`` runs ``executable``, its command line) -- (False, '') when no process has it."""
    found = holder(pid, proc)
    if found is None:
        return False, ""
    argv, exe = found
    if not argv:  # a zombie or a kernel thread
        return False, "[pid %d has no command line]" % pid
    ours = _same_file(exe, executable) or any(_same_file(arg, executable) for arg in argv[:2] if arg.startswith("/"))
    return ours, " ".join(argv)


def inspect(path, executable, proc="/proc"):
    """What the pid file says: a dict with pid, state (missing, daemon, stale) and holder (a stranger's command line)."""
    pid = read_pid(path)
    if pid is None:
        return {"pid": None, "state": "missing", "holder": ""}
    if pid == 0:
        return {"pid": None, "state": "stale", "holder": ""}
    ours, command = runs(pid, executable, proc)
    return {"pid": pid, "state": "daemon" if ours else "stale", "holder": "" if ours else command}

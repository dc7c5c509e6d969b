# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: a host's instance slots written and run in one pass (the acgs_slots module).

A task per file and per slot cost a module run each (about half a second on these machines, 30 s
for the 7 services' slots); here the release files, each slot's configuration (validated before
it replaces the old one) and its supervisord program are compared and written together, then
supervisord is told once. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd
import shlex
import stat
import subprocess
import tempfile
import time

from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.plugins.module_utils._pidfiles import process
from ansible_collections.acgs.platform.plugins.module_utils._shutdown import port_open, stop_all, stop_pids
from ansible_collections.acgs.platform.plugins.module_utils._supervisor import STOPPED_STATES


def ids(owner, group):
    try:
        return pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid
    except KeyError as err:
        raise OperatorError("unknown user or group %s:%s (%s)" % (owner, group, to_native(err)))


def needs_write(path, data, mode, uid, gid):
    """(content differs or file missing, attributes differ)."""
    try:
        st = os.stat(path)
    except OSError:
        return True, True
    attrs = stat.S_IMODE(st.st_mode) != mode or st.st_uid != uid or st.st_gid != gid
    if st.st_size != len(data):
        return True, attrs
    with open(path, "rb") as handle:
        return handle.read() != data, attrs


def write_atomic(files, validate=None):
    """Each (path, data, mode, uid, gid) through a temporary file in its directory, so that a reader
    sees the old file or the new one. ``validate`` (a command with %s) must accept every temporary
    file first, all checked at once; when one is refused none is written, and the refusals are named."""
    temps = []
    try:
        for path, data, mode, uid, gid in files:
            fd, tmp = tempfile.mkstemp(prefix=".acgs-", dir=os.path.dirname(path))
            temps.append(tmp)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, mode)
            os.chown(tmp, uid, gid)
        if validate:
            procs = [subprocess.Popen(shlex.split(validate % tmp), stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for tmp in temps]
            refused = []
            for entry, tmp, proc in zip(files, temps, procs):
                out = proc.communicate()[0]
                if proc.returncode != 0:
                    refused.append("%s: %s" % (entry[0], to_native(out).strip().replace(tmp, "FILE")))
            if refused:
                raise OperatorError("configuration refused by its release (%s): %s" % (validate % "FILE", "; ".join(refused)))
        for entry, tmp in zip(files, temps):
            os.rename(tmp, entry[0])
    finally:
        for tmp in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)


class Files(object):
    """Writes what differs (or, in check mode, only says so); ``written`` lists the paths."""

    def __init__(self, check_mode):
        self.check_mode = check_mode
        self.written = []

    def ensure_dir(self, path, mode, uid, gid):
        if os.path.isdir(path):
            st = os.stat(path)
            if stat.S_IMODE(st.st_mode) == mode and st.st_uid == uid and st.st_gid == gid:
                return False
        if not self.check_mode:
            if not os.path.isdir(path):
                os.makedirs(path, mode)
            os.chmod(path, mode)
            os.chown(path, uid, gid)
        self.written.append(path + "/")
        return True

    def ensure(self, path, text, mode, uid, gid, later=None):
        """Writes ``path`` when it differs; with ``later`` (a list), a new content is appended there for
        one validated write_atomic instead. Whether it differed."""
        data = to_bytes(text)
        content, attrs = needs_write(path, data, mode, uid, gid)
        if not (content or attrs):
            return False
        if not self.check_mode:
            if content and later is not None:
                later.append((path, data, mode, uid, gid))
            elif content:
                write_atomic([(path, data, mode, uid, gid)])
            else:
                os.chmod(path, mode)
                os.chown(path, uid, gid)
        self.written.append(path)
        return True

    def remove(self, path):
        if not os.path.lexists(path):
            return False
        if not self.check_mode:
            os.unlink(path)
        self.written.append(path)
        return True


def install(params, files):
    """Release directories, configurations, programs and leftovers. Returns what changed:
    {'releases': [dirs], 'configs': [programs], 'programs': [programs], 'removed': [paths]}."""
    root = ids("root", "root")
    sources = params["sources"]
    changed = {"releases": [], "configs": [], "programs": [], "removed": []}
    for path in params["remove"]:
        if files.remove(path):
            changed["removed"].append(path)
    for release in params["releases"]:
        if release["source"] not in sources:
            raise OperatorError("release %s: no source %r (sources: %s)" % (release["path"], release["source"], ", ".join(sorted(sources))))
        touched = files.ensure_dir(release["path"], 0o755, *root)
        for name, text in sorted(sources[release["source"]].items()):
            touched = files.ensure(os.path.join(release["path"], name), text, 0o644, *root) or touched
        if touched:
            changed["releases"].append(release["path"])
    configs = []
    for slot in params["slots"]:
        if files.ensure(slot["config_path"], slot["config"], int(slot["config_mode"], 8), *ids("root", slot["config_group"]), later=configs):
            changed["configs"].append(slot["program"])
    # Validated together; a refused one leaves every configuration and program as it was.
    write_atomic(configs, params["validate"])
    for slot in params["slots"]:
        if files.ensure(slot["program_path"], slot["program_conf"], 0o644, *root):
            changed["programs"].append(slot["program"])
    return changed


def wait_stopped(rpc, names, timeout, clock=time.monotonic, poll=0.05):
    deadline = clock() + timeout
    pending = list(names)
    while pending:
        pending = [n for n in pending if rpc.process_info(n)["statename"] not in STOPPED_STATES]
        if pending and clock() >= deadline:
            raise OperatorError("did not stop within %.0f s: %s" % (timeout, ", ".join(pending)))
        if pending:
            time.sleep(poll)


def wait_listening(rpc, slots, host, timeout, clock=time.monotonic, poll=0.05):
    """Until every slot's port accepts connections; fails early naming a program supervisord gave up on."""
    deadline = clock() + timeout
    pending = list(slots)
    while pending:
        pending = [s for s in pending if not port_open(host, s["port"], timeout=0.2)]
        if not pending:
            return
        fatal = [s["program"] for s in pending if rpc.process_info(s["program"])["statename"] in ("FATAL", "EXITED")]
        if fatal or clock() >= deadline:
            raise OperatorError("not listening%s: %s" % ("" if fatal else " within %.0f s" % timeout, ", ".join(
                "%s on %s:%d (%s)" % (s["program"], host, s["port"], rpc.process_info(s["program"])["statename"]) for s in pending)))
        time.sleep(poll)


def listeners(ports, proc="/proc"):
    """{port: [(pid, ppid, command line)]} of the processes holding a socket that listens on one of
    ``ports`` (TCP, IPv4 or IPv6; root sees every process): the kernel's tables name the sockets' inodes,
    each process's fd links name the inodes it holds."""
    inodes = {}
    for table in ("net/tcp", "net/tcp6"):
        try:
            with open(os.path.join(proc, table)) as handle:
                rows = handle.read().splitlines()[1:]
        except (IOError, OSError):
            continue
        for row in rows:
            fields = row.split()
            port = int(fields[1].rsplit(":", 1)[1], 16)
            if fields[3] == "0A" and port in ports:  # 0A: TCP_LISTEN
                inodes["socket:[%s]" % fields[9]] = port
    found = dict((port, []) for port in ports)
    if not inodes:
        return found
    for pid in (int(name) for name in os.listdir(proc) if name.isdigit()):
        held = set(inodes[link] for link in _fd_links(os.path.join(proc, str(pid), "fd")) if link in inodes)
        if not held:
            continue
        this = process(pid, proc)
        if this is None:
            continue  # gone meanwhile
        for port in held:
            found[port].append((pid, this[0], " ".join(this[1])))
    return found


def _fd_links(directory):
    """The targets of a process's fd links (none when it is gone; an fd closed meanwhile is skipped)."""
    try:
        fds = os.listdir(directory)
    except (IOError, OSError):
        return
    for fd in fds:
        try:
            yield os.readlink(os.path.join(directory, fd))
        except (IOError, OSError):
            continue


def stop_orphans(rpc, slots, timeout, holders=listeners, stop=stop_all):
    """Frees the slots' ports of processes supervisord does not run. When supervisord dies (OOM, SIGKILL)
    its programs live on, reparented to init, and keep their ports: the programs a new supervisord starts
    cannot bind, while a check of the port passes against the orphans. A holder whose command line names
    the slot's configuration is such an orphan and is stopped (SIGTERM, drained, SIGKILL at ``timeout``);
    any other holder fails the task, naming it, before anything is stopped. The program's own process and
    its children (workers sharing the socket) are not holders to free. Returns the orphans stopped."""
    ports = holders(set(slot["port"] for slot in slots))
    orphans, foreign = [], []
    for slot in slots:
        own = rpc.process_info(slot["program"]).get("pid") or -1
        for pid, ppid, cmdline in ports.get(slot["port"], []):
            if own in (pid, ppid):
                continue
            if slot["config_path"] in cmdline.split():
                orphans.append({"program": slot["program"], "pid": pid, "timeout": timeout, "port": slot["port"], "command": cmdline})
            else:
                foreign.append("%d of %s: pid %d (%s)" % (slot["port"], slot["program"], pid, cmdline))
    if foreign:
        raise OperatorError("slot ports held by processes that are not the slots' (free them, then converge again): %s"
                            % "; ".join(foreign))
    if not orphans:
        return []
    try:
        stopped = stop_pids(orphans, stop=stop)
    except OperatorError as err:
        raise OperatorError("orphans of the slots still hold their ports: %s" % err)
    return [dict((k, s[k]) for k in ("program", "pid", "port", "command", "how", "seconds")) for s in stopped]


def run(params, rpc, changed, clock=time.monotonic):
    """supervisord told once: programs loaded when their files changed, orphans holding the slots' ports
    stopped (stop_orphans), running slots whose release or configuration changed restarted, the slots that
    should run started, their ports waited for.
    Returns {'loaded': {...}, 'orphans': [...], 'restarted': [...], 'started': [...]}."""
    timeout = params["timeout"]
    out = {"loaded": {"added": [], "changed": [], "removed": []}, "restarted": [], "started": []}
    if changed["programs"] or changed["removed"]:
        added, reloaded, removed = rpc.update(lambda names, t: wait_stopped(rpc, names, t, clock), timeout)
        out["loaded"] = {"added": added, "changed": reloaded, "removed": removed}
    out["orphans"] = stop_orphans(rpc, params["slots"], timeout)
    fresh = set(out["loaded"]["added"]) | set(out["loaded"]["changed"])
    running = [s for s in params["slots"] if s["running"]]
    restart = [s["program"] for s in running if s["program"] not in fresh
               and (s["program"] in changed["configs"] or s["release"] in changed["releases"])]
    for name in restart:
        rpc.stop(name)
    wait_stopped(rpc, restart, timeout, clock)
    out["restarted"] = restart
    for slot in running:
        if rpc.start_nowait(slot["program"]) and slot["program"] not in restart:
            out["started"].append(slot["program"])
    wait_listening(rpc, running, params["host"], timeout, clock)
    return out

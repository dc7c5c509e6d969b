#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Starts acgs_backup (through the ansible CLI) in its own process group and
SIGKILLs the whole group once the set being built holds data. Prints JSON."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def partial_bytes(backup_dir):
    found = {}
    for name in os.listdir(backup_dir) if os.path.isdir(backup_dir) else []:
        if name.startswith(".backup-") and name.endswith(".partial"):
            total = 0
            for root, dummy, files in os.walk(os.path.join(backup_dir, name)):
                for fname in files:
                    try:
                        total += os.path.getsize(os.path.join(root, fname))
                    except OSError:
                        pass
            found[name] = total
    return found


def descendants(root):
    """Every process below ``root``; ansible runs the module in a session of its own,
    so killing our process group alone would not reach it."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                stat = handle.read()
        except (IOError, OSError):
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (IOError, OSError, IndexError):
        return False


def kill_tree(proc):
    """SIGKILL ansible and everything under it (module, pg_dump), and wait until all are gone."""
    pids = [proc.pid] + descendants(proc.pid)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    proc.wait()
    deadline = time.time() + 10
    while any(alive(pid) for pid in pids) and time.time() < deadline:
        time.sleep(0.02)


def main():
    backup_dir, args_file, threshold = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(args_file) as handle:
        args = handle.read().strip()
    ansible = shutil.which("ansible") or os.path.join(os.path.dirname(sys.executable), "ansible")
    env = dict(os.environ, ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([ansible, "localhost", "-e", "ansible_python_interpreter=%s" % sys.executable,
                             "-m", "acgs.platform.acgs_backup", "-a", args],
                            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    started = time.time()
    seen = {}
    while time.time() - started < 180:
        seen = partial_bytes(backup_dir)
        if any(size >= threshold for size in seen.values()):
            break
        if proc.poll() is not None:
            log.seek(0)
            print(json.dumps({"killed": False, "reason": "backup ended (rc %s) before the partial set grew" % proc.returncode,
                              "output": log.read()[-3000:].decode("utf-8", "replace")}))
            return 1
        time.sleep(0.02)
    else:
        kill_tree(proc)
        print(json.dumps({"killed": False, "reason": "timeout"}))
        return 1
    kill_tree(proc)
    print(json.dumps({"killed": True, "partial": seen, "after_seconds": round(time.time() - started, 2),
                      "left": sorted(os.listdir(backup_dir))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

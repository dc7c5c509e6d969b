# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A scratch canary lab for the acgs_canary target, all on loopback, all in one directory.

start: three reference services (stable, good, bad with error_rate 0.3) and a
scratch HAProxy with its own admin socket and three frontend/backend pairs, each
backend with servers ``stable`` (weight 100) and ``canary`` (weight 0):
be_good (canary = good), be_bad (canary = bad), be_cut (canary = good).
Prints JSON: socket, frontends {good, bad, cut} -> port, pids.
stop: ends every process that start recorded and waits until each is gone.
weights: the weights and states of one backend's servers, as JSON.
interrupt: runs the module (python -m) with a JSON args file, waits until the canary
carries traffic, sends SIGTERM, and prints the module's result with the weights.

For the metrics_source prometheus cases, on the live stack's HAProxy (scraped by the live
Prometheus), through its runtime API only (no reload):
live-redirect: in one backend, the server with weight > 0 is the stable one; the other
(the idle slot) is pointed at a lab service (set server ... addr) after its weight, state
and address are recorded in a state file. Prints {stable, canary, before}.
live-show: weights, states, addresses and counters of two servers of a backend.
live-restore: puts back, from the state file, every recorded server's weight, state and
address (stable first, so traffic never lacks a server); prints what the servers are now.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time

# The one free_port of the tests (needs/file in aliases copies it beside the targets).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "unit", "plugins", "test_support"))
from fault_servers import free_port  # noqa: E402  pylint: disable=wrong-import-position

BACKENDS = {"good": "good", "bad": "bad", "cut": "good"}


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise SystemExit("timed out after %ss waiting for %s" % (timeout, what))


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close()
        return True
    except OSError:
        return False


def runtime(path, line):
    conn = socket.socket(socket.AF_UNIX)
    conn.settimeout(5)
    conn.connect(path)
    conn.sendall(line.encode() + b"\n")
    data = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    conn.close()
    return data.decode()


def weights(path, backend):
    out = {}
    text = runtime(path, "show stat")
    lines = text.splitlines()
    header = lines[0].lstrip("# ").split(",")
    for line in lines[1:]:
        row = dict(zip(header, line.split(",")))
        if row.get("pxname") == backend and row.get("svname") in ("stable", "canary"):
            out[row["svname"]] = int(runtime(path, "get weight %s/%s" % (backend, row["svname"])).split()[0])
            out[row["svname"] + "_status"] = row["status"]
    return out


def start(args):
    os.makedirs(args.dir, exist_ok=True)
    pids = []
    ports = {}
    for name, faults in (("stable", {}), ("good", {}), ("bad", {"error_rate": 0.3})):
        port = free_port()
        config = os.path.join(args.dir, "%s.json" % name)
        with open(config, "w") as handle:
            json.dump({"name": "canary-%s" % name, "listen_port": port, "listen_host": "127.0.0.1",
                       "constitutional_hash": args.hash, "dependencies": [], "faults": faults}, handle)
        log = open(os.path.join(args.dir, "%s.log" % name), "wb")
        proc = subprocess.Popen([sys.executable, args.service, "--config", config], stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        pids.append(proc.pid)
        ports[name] = port
    with open(os.path.join(args.dir, "pids.json"), "w") as handle:
        json.dump(pids, handle)
    for name, port in ports.items():
        try:
            wait_until(lambda p=port: port_open(p), 30, "service %s on port %d" % (name, port))
        except SystemExit:
            with open(os.path.join(args.dir, "%s.log" % name)) as handle:
                sys.stderr.write(handle.read()[-2000:])
            raise
    sock = os.path.join(args.dir, "admin.sock")
    frontends = dict((key, free_port()) for key in BACKENDS)
    lines = ["global", "    stats socket %s mode 600 level admin" % sock,
             "defaults", "    mode http", "    timeout connect 2s", "    timeout client 10s", "    timeout server 10s", ""]
    for key, canary in sorted(BACKENDS.items()):
        lines += ["frontend fe_%s" % key, "    bind 127.0.0.1:%d" % frontends[key], "    default_backend be_%s" % key,
                  "backend be_%s" % key, "    balance roundrobin",
                  "    server stable 127.0.0.1:%d weight 100" % ports["stable"],
                  "    server canary 127.0.0.1:%d weight 0" % ports[canary], ""]
    cfg = os.path.join(args.dir, "haproxy.cfg")
    with open(cfg, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    subprocess.check_call(["haproxy", "-c", "-q", "-f", cfg])
    subprocess.check_call(["haproxy", "-D", "-f", cfg, "-p", os.path.join(args.dir, "haproxy.pid")])
    wait_until(lambda: os.path.exists(sock) and all(port_open(p) for p in frontends.values()), 30, "scratch HAProxy")
    with open(os.path.join(args.dir, "haproxy.pid")) as handle:
        pids.append(int(handle.read().split()[0]))
    with open(os.path.join(args.dir, "pids.json"), "w") as handle:
        json.dump(pids, handle)
    print(json.dumps({"socket": sock, "frontends": frontends, "pids": pids, "services": ports}))


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie of ours is gone for our purpose
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def stop(args):
    path = os.path.join(args.dir, "pids.json")
    pids = []
    if os.path.exists(path):
        with open(path) as handle:
            pids = json.load(handle)
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.05)
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
    print(json.dumps({"stopped": pids}))


def interrupt(args):
    env = dict(os.environ, PYTHONPATH=args.pythonpath)
    with open(args.args) as handle:
        module_args = json.load(handle)["ANSIBLE_MODULE_ARGS"]
    before = weights(module_args["socket"], module_args["backend"])
    proc = subprocess.Popen([sys.executable, "-m", "ansible_collections.acgs.platform.plugins.modules.acgs_canary", args.args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        wait_until(lambda: proc.poll() is not None or weights(module_args["socket"], module_args["backend"])["canary"] > 0,
                   60, "the canary to carry traffic")
        during = weights(module_args["socket"], module_args["backend"])
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        reaction = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    try:
        result = json.loads(out.decode())
    except ValueError:
        result = {"unparsed": out.decode()[-2000:], "stderr": err.decode()[-2000:]}
    print(json.dumps({"before": before, "during": during, "after": weights(module_args["socket"], module_args["backend"]),
                      "returncode": proc.returncode, "result": result, "seconds_to_exit": round(reaction, 3)}))


ERROR_COUNTERS = ("econ", "eresp")
RESPONSE_COUNTERS = ("hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other")


def stat_rows(path, backend):
    text = runtime(path, "show stat")
    lines = text.splitlines()
    header = lines[0].lstrip("# ").split(",")
    rows = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(",")))
        if row.get("pxname") == backend and row.get("svname") not in ("FRONTEND", "BACKEND"):
            rows[row["svname"]] = row
    return rows


def server_view(path, backend, name, row):
    status = row.get("status", "")
    state = "maint" if "MAINT" in status else "drain" if "DRAIN" in status else "ready"
    count = dict((key, int(row.get(key) or 0)) for key in RESPONSE_COUNTERS + ERROR_COUNTERS)
    return {"name": name, "weight": int(runtime(path, "get weight %s/%s" % (backend, name)).split()[0]),
            "state": state, "status": status, "addr": row.get("addr", ""),
            "requests": sum(count.values()), "errors": count["hrsp_5xx"] + count["econ"] + count["eresp"]}


def live_redirect(args):
    rows = stat_rows(args.socket, args.backend)
    views = [server_view(args.socket, args.backend, name, row) for name, row in sorted(rows.items())]
    serving = [v for v in views if v["weight"] > 0 and v["state"] == "ready"]
    if len(views) != 2 or len(serving) != 1:
        raise SystemExit("backend %s: expected two servers, one serving (weight > 0, ready), got %s" % (args.backend, views))
    stable = serving[0]
    canary = [v for v in views if v is not stable][0]
    state = {}
    if os.path.exists(args.state):
        with open(args.state) as handle:
            state = json.load(handle)
    state[args.backend] = {"stable": stable, "canary": canary}
    with open(args.state, "w") as handle:
        json.dump(state, handle)
    answer = runtime(args.socket, "set server %s/%s addr 127.0.0.1 port %d" % (args.backend, canary["name"], args.port)).strip()
    wanted = "127.0.0.1:%d" % args.port

    def redirected():
        row = stat_rows(args.socket, args.backend)[canary["name"]]
        return row.get("addr") == wanted and row.get("status", "").startswith("UP")
    wait_until(redirected, 30, "%s/%s to be UP at %s (%s)" % (args.backend, canary["name"], wanted, answer))
    print(json.dumps({"stable": stable["name"], "canary": canary["name"], "before": state[args.backend]}))


def live_show(args):
    rows = stat_rows(args.socket, args.backend)
    print(json.dumps(dict((role, server_view(args.socket, args.backend, name, rows[name]))
                          for role, name in (("stable", args.stable), ("canary", args.canary)))))


def live_restore(args):
    if not os.path.exists(args.state):
        print(json.dumps({}))
        return
    with open(args.state) as handle:
        state = json.load(handle)
    now = {}
    for backend, servers in sorted(state.items()):
        stable = "%s/%s" % (backend, servers["stable"]["name"])
        runtime(args.socket, "set server %s state %s" % (stable, servers["stable"]["state"]))
        runtime(args.socket, "set server %s weight %d" % (stable, servers["stable"]["weight"]))
        # the canary's traffic off before its address goes back to the idle slot
        canary = "%s/%s" % (backend, servers["canary"]["name"])
        runtime(args.socket, "set server %s weight %d" % (canary, servers["canary"]["weight"]))
        runtime(args.socket, "set server %s state %s" % (canary, servers["canary"]["state"]))
        host, port = servers["canary"]["addr"].rsplit(":", 1)
        runtime(args.socket, "set server %s addr %s port %s" % (canary, host, port))
        rows = stat_rows(args.socket, backend)
        now[backend] = dict((role, server_view(args.socket, backend, servers[role]["name"], rows[servers[role]["name"]]))
                            for role in ("stable", "canary"))
    os.remove(args.state)
    print(json.dumps({"before": state, "now": now}))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("start")
    one.add_argument("--dir", required=True)
    one.add_argument("--service", required=True)
    one.add_argument("--hash", required=True)
    one = sub.add_parser("stop")
    one.add_argument("--dir", required=True)
    one = sub.add_parser("weights")
    one.add_argument("--socket", required=True)
    one.add_argument("--backend", required=True)
    one = sub.add_parser("interrupt")
    one.add_argument("--args", required=True)
    one.add_argument("--pythonpath", required=True)
    one = sub.add_parser("live-redirect")
    one.add_argument("--socket", required=True)
    one.add_argument("--backend", required=True)
    one.add_argument("--port", required=True, type=int)
    one.add_argument("--state", required=True)
    one = sub.add_parser("live-show")
    one.add_argument("--socket", required=True)
    one.add_argument("--backend", required=True)
    one.add_argument("--stable", required=True)
    one.add_argument("--canary", required=True)
    one = sub.add_parser("live-restore")
    one.add_argument("--socket", required=True)
    one.add_argument("--state", required=True)
    args = parser.parse_args()
    if args.command == "start":
        start(args)
    elif args.command == "stop":
        stop(args)
    elif args.command == "weights":
        print(json.dumps(weights(args.socket, args.backend)))
    elif args.command == "live-redirect":
        live_redirect(args)
    elif args.command == "live-show":
        live_show(args)
    elif args.command == "live-restore":
        live_restore(args)
    else:
        interrupt(args)


if __name__ == "__main__":
    main()

"""Verify the staging layout converged across the scenario's containers, from the controller.

The controller sits on the containers' network (10.20.0.1, the gateway) and speaks to them as a
client would: HTTP through HAProxy, PostgreSQL, Redis, Prometheus; `docker exec` only reads what
a client cannot see (HAProxy's runtime API, pg_hba's parsed rules, supervisord's and systemd's pids
and units). Two containers run systemd as PID 1 (NATS's host, and the second application host with
acgs_services_runtime=systemd in its host_vars).
"""
import importlib.util
import ipaddress
import json
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request

import psycopg2
import pytest
import yaml

SCENARIO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
REPO = os.path.abspath(os.path.join(SCENARIO, "..", ".."))


def _load_catalog():
    """The collection's catalog (the one place the hash and the ports live)."""
    spec = importlib.util.spec_from_file_location(
        "acgs_catalog", os.path.join(REPO, "plugins", "module_utils", "catalog.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CATALOG = _load_catalog()
HASH = CATALOG.CONSTITUTIONAL_HASH
PORTS = CATALOG.INFRASTRUCTURE_PORTS
SERVICES = dict((svc["name"], svc["port"]) for svc in CATALOG.SERVICES)

# The containers, their groups and addresses: molecule.yml's platforms (the one place they are written).
with open(os.path.join(SCENARIO, "molecule.yml")) as _handle:
    PLATFORMS = yaml.safe_load(_handle)["platforms"]
ADDRESS = dict((p["name"], p["networks"][0]["ipv4_address"]) for p in PLATFORMS)
GROUPS = {}
for _platform in PLATFORMS:
    for _group in _platform["groups"]:
        GROUPS.setdefault(_group, []).append(_platform["name"])
LB = GROUPS["loadbalancer"][0]
DB = GROUPS["database"][0]
CACHE = GROUPS["cache"][0]
MON = GROUPS["monitoring"][0]
APPS = GROUPS["acgs_services"]
BROKER = GROUPS["broker"][0]
# The containers whose PID 1 is systemd (molecule.yml: command /sbin/init).
SYSTEMD_HOSTS = [p["name"] for p in PLATFORMS if p.get("command") == "/sbin/init"]
SYSTEMD_APP = [app for app in APPS if app in SYSTEMD_HOSTS][0]
NETWORK = PLATFORMS[0]["docker_networks"][0]["name"]
with open(os.path.join(REPO, "inventories", "staging", "group_vars", "all", "acgs.yml")) as _handle:
    SERVICES_NETWORKS = [ipaddress.ip_network(n) for n in yaml.safe_load(_handle)["acgs_postgresql_allowed_networks"]]
with open(os.path.join(REPO, "roles", "common", "defaults", "main", "paths.yml")) as _handle:
    _PATHS = yaml.safe_load(_handle)
UNIT_DIR = _PATHS["acgs_systemd_unit_dir"]  # where the services' units go
RESULTS_DIR = _PATHS["acgs_results_dir"]  # the JSON records of deploys and backups
with open(os.path.join(REPO, "roles", "common", "defaults", "main", "deploy.yml")) as _handle:
    DEPLOY_STATE = yaml.safe_load(_handle)["acgs_deploy_state_file"]  # which slot of each service has the traffic
# A source on the containers' network (a /16) outside the services' network (10.20.0.0/24).
OUTSIDER = "10.20.1.50"
RELEASE = "0.3.0-mh"  # the release the deploy tests build and deploy
PROBE = "acgs-mh-probe"  # destroy.yml removes it too, should a run leave it

INVENTORY = os.environ.get("MOLECULE_INVENTORY_FILE") or os.path.join(
    os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "inventory", "ansible_inventory.yml")


def secrets():
    """The secrets site.yml generated once into staging's acgs_secrets_file ({{ inventory_dir }}/.secrets/secrets.yml:
    a hidden directory, which Ansible does not read as an inventory source)."""
    with open(os.path.join(os.path.dirname(INVENTORY), ".secrets", "secrets.yml")) as handle:
        return yaml.safe_load(handle)


def docker_exec(container, *argv, check=True):
    return subprocess.run(["docker", "exec", container] + list(argv), capture_output=True, text=True,
                          check=check, timeout=60)


def get(url, timeout=5):
    """(status, headers, parsed JSON or text) of a GET, 4xx/5xx included; status 0 when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            status, headers, body = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        status, headers, body = err.code, err.headers, err.read()
    except (urllib.error.URLError, OSError) as err:
        return 0, {}, str(err)
    try:
        return status, headers, json.loads(body)
    except ValueError:
        return status, headers, body.decode("utf-8", "replace")


def wait_for(predicate, deadline_s, interval=0.5):
    end = time.monotonic() + deadline_s
    value = predicate()
    while not value and time.monotonic() < end:
        time.sleep(interval)
        value = predicate()
    return value


HAPROXY_COMMAND = """
import socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect("/run/haproxy/admin.sock")
sock.sendall(sys.argv[1].encode() + b"\\n")
data = b""
while True:
    chunk = sock.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.decode())
"""


def haproxy_command(command):
    """HAProxy's answer to a runtime API command, on its host."""
    return docker_exec(LB, "python3", "-c", HAPROXY_COMMAND, command).stdout


def haproxy_servers():
    """HAProxy's servers (not FRONTEND/BACKEND rows) as dicts of `show stat`'s columns, read on its host."""
    lines = haproxy_command("show stat").strip().splitlines()
    header = lines[0].lstrip("# ").split(",")
    rows = [dict(zip(header, line.split(","))) for line in lines[1:] if line]
    return [row for row in rows if row["svname"] not in ("FRONTEND", "BACKEND")]


def ansible_playbook_start(name, *args):
    """ansible-playbook on the scenario's inventory (the controller's run, as `make` would start it)."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    env.pop("ANSIBLE_FORCE_COLOR", None)
    return subprocess.Popen(["ansible-playbook", "-i", INVENTORY, os.path.join(REPO, "playbooks", name)] + list(args),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO, env=env)


def load_through_haproxy(path, rate, duration, stop_file, out):
    """The bounded load generator (tests/unit/plugins/test_support/loadgen.py): rate GETs/s of path to
    each service through HAProxy on the load balancer, until stop_file exists; its counts go to out."""
    if os.path.exists(stop_file):
        os.unlink(stop_file)
    return subprocess.Popen(
        [sys.executable, os.path.join(REPO, "tests", "unit", "plugins", "test_support", "loadgen.py"),
         "--rate", str(rate), "--duration", str(duration), "--stop-file", stop_file, "--out", out]
        + ["--url=http://%s:%d%s" % (ADDRESS[LB], port, path) for port in SERVICES.values()])


def stop_load(loader, stop_file, out):
    """Stop the load generator; its counts."""
    open(stop_file, "w").close()
    loader.wait(60)
    os.unlink(stop_file)
    with open(out) as handle:
        return json.load(handle)


def service_pids(container):
    """The running service instances and their pids: supervisord's programs, or on a systemd host
    the slots' units (acgs-<service>-<slot>.service)."""
    if container in SYSTEMD_HOSTS:
        units = docker_exec(container, "systemctl", "list-units", "--state=active", "--no-legend", "--plain",
                            "acgs-*-service-*.service").stdout.split()
        units = [unit for unit in units if unit.endswith(".service")]
        pids = docker_exec(container, "systemctl", "show", "-p", "MainPID", "--value", *units).stdout.split() if units else []
        return sorted("%s %s" % pair for pair in zip(units, pids))
    out = docker_exec(container, "supervisorctl", "status", check=False).stdout
    return sorted(line.split()[0] + " " + line.split("pid ")[1].split(",")[0]
                  for line in out.splitlines() if "RUNNING" in line)


def unit_properties(container, unit, *names):
    out = docker_exec(container, "systemctl", "show", unit, *["-p" + name for name in names]).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def unit_port(unit):
    """The slot port of a unit acgs-<service>-<slot>.service (the catalog's instance ports)."""
    service, slot = unit[len("acgs-"):-len(".service")].rsplit("-", 1)
    return SERVICES[service] + CATALOG.INSTANCE_PORT_OFFSET + (CATALOG.GREEN_PORT_OFFSET if slot == "green" else 0)


def exposure(container, unit):
    """systemd-analyze security's overall exposure of a unit (0 safest, 10 unprotected)."""
    out = docker_exec(container, "systemd-analyze", "security", "--no-pager", unit).stdout
    return float(out.strip().splitlines()[-1].split("exposure level for %s: " % unit)[1].split()[0])


@pytest.mark.parametrize("name,port", sorted(SERVICES.items()))
def test_services_answer_through_haproxy_on_the_loadbalancer(name, port):
    status, headers, body = get("http://%s:%d/health" % (ADDRESS[LB], port))
    assert status == 200, body
    assert body["status"] == "healthy" and body["service"] == name
    assert headers["X-Constitutional-Hash"] == HASH
    status, _headers, body = get("http://%s:%d/api/v1/compliance/status" % (ADDRESS[LB], port))
    assert status == 200 and body["data"]["constitutional_hash"] == HASH


def test_haproxy_reaches_the_instances_on_both_application_hosts():
    """Every service's backend has UP servers on each application container's address (none on the
    load balancer itself), and requests through HAProxy reach instances on both."""
    before = dict(((s["pxname"], s["svname"]), int(s["stot"])) for s in haproxy_servers())
    for _round in range(4):
        for port in SERVICES.values():
            assert get("http://%s:%d/health" % (ADDRESS[LB], port))[0] == 200
    instance_ports = set(port + CATALOG.INSTANCE_PORT_OFFSET + slot for port in SERVICES.values()
                         for slot in (0, CATALOG.GREEN_PORT_OFFSET))
    app_addresses = set(ADDRESS[app] for app in APPS)
    served = {}
    for server in haproxy_servers():
        host, port = server["addr"].rsplit(":", 1)[0], int(server["addr"].rsplit(":", 1)[1] or 0)
        if port not in instance_ports:
            continue
        assert host in app_addresses, server  # the instances run on the application hosts only
        if server["status"] == "UP" and int(server["stot"]) > before.get((server["pxname"], server["svname"]), 0):
            served.setdefault(port, set()).add(host)
    for name, port in SERVICES.items():
        instance_port = port + CATALOG.INSTANCE_PORT_OFFSET
        assert served.get(instance_port) == app_addresses, (name, served)


def test_instances_listen_on_the_application_hosts_only():
    for app in APPS:
        for port in SERVICES.values():
            status, _headers, body = get("http://%s:%d/health" % (ADDRESS[app], port + CATALOG.INSTANCE_PORT_OFFSET))
            assert status == 200 and body["status"] == "healthy"
    probe = "import socket; socket.create_connection(('127.0.0.1', %d), timeout=2)" % (SERVICES["auth-service"] + 10000)
    assert docker_exec(LB, "python3", "-c", probe, check=False).returncode != 0


def test_pg_hba_allows_only_the_services_network():
    """pg_hba's host rules name only the services' network (and loopback); the controller (10.20.0.1)
    and an application host log in, a client on the same Docker network but outside 10.20.0.0/24
    is refused by pg_hba with the same, right password."""
    rules = docker_exec(DB, "su", "postgres", "-c",
                        "psql -AtF ' ' -c \"SELECT type, coalesce(address, ''), coalesce(netmask, ''), error "
                        "FROM pg_hba_file_rules WHERE type <> 'local'\"").stdout.split("\n")
    networks = []
    for rule in filter(None, rules):
        kind, address, netmask = (rule.split(" ") + ["", "", ""])[:3]
        assert address, "host rule without an address: %s" % rule
        prefix = bin(int(ipaddress.ip_address(netmask))).count("1")  # ip_network takes no IPv6 netmask
        network = ipaddress.ip_network("%s/%d" % (address, prefix), strict=False)
        assert network.is_loopback or any(network.subnet_of(allowed) for allowed in SERVICES_NETWORKS
                                          if allowed.version == network.version), rule
        networks.append(network)
    assert any(not network.is_loopback for network in networks), rules

    password = secrets()["acgs_postgresql_password"]
    conn = psycopg2.connect(host=ADDRESS[DB], port=PORTS["postgresql"], dbname="acgs", user="acgs",
                            password=password, connect_timeout=5)
    with conn.cursor() as cur:
        cur.execute("SELECT host(inet_client_addr())")
        assert ipaddress.ip_address(cur.fetchone()[0]) in SERVICES_NETWORKS[0]
    conn.close()

    script = ("import psycopg2, sys\n"
              "try:\n"
              "    psycopg2.connect(host=%r, port=%d, dbname='acgs', user='acgs', password=sys.stdin.read(),"
              " connect_timeout=5).close()\n"
              "    print('connected')\n"
              "except psycopg2.OperationalError as err:\n"
              "    print(err)\n") % (ADDRESS[DB], PORTS["postgresql"])
    inside = subprocess.run(["docker", "exec", "-i", APPS[0], "python3", "-c", script], input=password,
                            capture_output=True, text=True, timeout=60, check=False)
    assert inside.stdout.strip() == "connected", inside
    outside = subprocess.run(["docker", "run", "--rm", "-i", "--name", PROBE, "--network", NETWORK, "--ip", OUTSIDER,
                              PLATFORMS[0]["image"], "timeout", "30", "python3", "-c", script],
                             input=password, capture_output=True, text=True, timeout=90, check=False)
    assert 'no pg_hba.conf entry for host "%s"' % OUTSIDER in outside.stdout, outside


def test_redis_on_its_host_requires_the_password():
    import redis  # pylint: disable=import-outside-toplevel
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(host=ADDRESS[CACHE], port=PORTS["redis"], socket_timeout=5).ping()
    assert redis.Redis(host=ADDRESS[CACHE], port=PORTS["redis"], password=secrets()["acgs_redis_password"],
                       socket_timeout=5).ping()


def test_prometheus_scrapes_the_instances_on_both_application_hosts():
    url = "http://%s:%d/api/v1/targets?state=active" % (ADDRESS[MON], PORTS["prometheus"])

    def up_instances():
        status, _headers, body = get(url)
        if status != 200:
            return set()
        return set(t["labels"].get("instance", "") for t in body["data"]["activeTargets"] if t["health"] == "up")

    want = set("%s:%d" % (ADDRESS[app], port + CATALOG.INSTANCE_PORT_OFFSET) for app in APPS for port in SERVICES.values())
    seen = wait_for(lambda: want <= up_instances() and up_instances(), 60, interval=2)
    assert want <= (seen or set()), sorted(want - (seen or set()))


def test_the_systemd_hosts_run_the_services_and_nats_as_hardened_units():
    """On the systemd application host every running slot is an active unit acgs-<service>-<slot> of
    the systemd runtime, as the acgs user, sandboxed (systemd-analyze security's exposure below 2.5,
    "OK"); no supervisord runs there. NATS on its systemd host runs the package's unit with the nats
    role's drop-in, as nats, with ProtectSystem=strict."""
    assert docker_exec(SYSTEMD_APP, "cat", "/proc/1/comm").stdout.strip() == "systemd"
    units = [line.split()[0] for line in service_pids(SYSTEMD_APP)]
    assert len(units) >= len(SERVICES), units
    for unit in units:
        props = unit_properties(SYSTEMD_APP, unit, "ActiveState", "User", "NoNewPrivileges", "ProtectSystem",
                                "Restart", "CapabilityBoundingSet")
        assert props == {"ActiveState": "active", "User": "acgs", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
                         "Restart": "on-failure", "CapabilityBoundingSet": ""}, (unit, props)
    assert exposure(SYSTEMD_APP, units[0]) < 2.5
    assert docker_exec(SYSTEMD_APP, "pgrep", "-x", "supervisord", check=False).returncode == 1

    assert BROKER in SYSTEMD_HOSTS
    props = unit_properties(BROKER, "nats-server.service", "ActiveState", "User", "ProtectSystem", "DropInPaths", "MainPID")
    assert props["ActiveState"] == "active" and props["User"] == "nats" and props["ProtectSystem"] == "strict", props
    assert props["DropInPaths"].endswith("nats-server.service.d/acgs.conf"), props
    assert docker_exec(BROKER, "stat", "-c", "%U", "/proc/%s" % props["MainPID"]).stdout.strip() == "nats"


def test_systemd_restarts_a_killed_slot():
    """A slot's process killed (SIGKILL) is started again by systemd (Restart=on-failure) and answers."""
    unit = sorted(line.split()[0] for line in service_pids(SYSTEMD_APP))[0]
    old_pid = unit_properties(SYSTEMD_APP, unit, "MainPID")["MainPID"]
    port = unit_port(unit)
    docker_exec(SYSTEMD_APP, "kill", "-KILL", old_pid)
    new_pid = wait_for(lambda: unit_properties(SYSTEMD_APP, unit, "MainPID")["MainPID"] not in ("0", old_pid)
                       and unit_properties(SYSTEMD_APP, unit, "MainPID")["MainPID"], 30)
    assert new_pid, "%s not restarted after SIGKILL of %s" % (unit, old_pid)
    assert wait_for(lambda: get("http://%s:%d/health" % (ADDRESS[SYSTEMD_APP], port))[0] == 200, 30)


def test_acgs_shutdown_stops_units_on_the_systemd_host():
    """acgs_shutdown with runtime systemd on the systemd application host: a slot drains (exit 0 after
    SIGTERM); a slot SIGSTOPped drains too (systemd sends SIGCONT after SIGTERM, so under systemd that
    is no hang); a unit whose process ignores SIGTERM is SIGKILLed at the 2 s timeout; the ports are
    closed and systemd starts no slot again (a stop asked for is no failure); start.yml limited to the
    host starts them."""
    clean, stopped = sorted(line.split()[0] for line in service_pids(SYSTEMD_APP))[:2]
    docker_exec(SYSTEMD_APP, "kill", "-STOP", unit_properties(SYSTEMD_APP, stopped, "MainPID")["MainPID"])
    deaf = "acgs-deaf-test"
    docker_exec(SYSTEMD_APP, "systemd-run", "--unit", deaf, "--", "python3", "-c",
                "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)")
    assert wait_for(lambda: unit_properties(SYSTEMD_APP, deaf + ".service", "ActiveState")["ActiveState"] == "active", 10)
    args = {"runtime": "systemd", "timeout": 2, "instances": [
        {"program": unit[:-len(".service")], "port": unit_port(unit), "host": ADDRESS[SYSTEMD_APP]} for unit in (clean, stopped)]
        + [{"program": deaf}]}
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_CALLBACK_RESULT_FORMAT="json")  # ansible.cfg says yaml
    env.pop("ANSIBLE_FORCE_COLOR", None)
    try:
        run = subprocess.run(["ansible", "-i", INVENTORY, SYSTEMD_APP, "-m", "acgs.platform.acgs_shutdown", "-a", json.dumps(args)],
                             capture_output=True, text=True, cwd=REPO, env=env, timeout=120, check=False)
    finally:
        docker_exec(SYSTEMD_APP, "systemctl", "reset-failed", deaf + ".service", check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    result = json.loads(run.stdout.split("=>", 1)[1])
    assert [(i["program"], i["how"], i["exitstatus"]) for i in result["instances"]] == [
        (clean[:-len(".service")], "drained", 0), (stopped[:-len(".service")], "drained", 0), (deaf, "killed", 137)], result
    assert result["ports_open"] == [] and 2 <= result["seconds"] < 10, result
    restarted = wait_for(lambda: [u for u in (clean, stopped) if unit_properties(SYSTEMD_APP, u, "ActiveState")["ActiveState"] != "inactive"], 5)
    assert not restarted, restarted
    start = ansible_playbook_start("start.yml", "--limit", SYSTEMD_APP)
    out = start.communicate()[0]
    assert start.returncode == 0, out[-4000:]
    assert all(get("http://%s:%d/health" % (ADDRESS[SYSTEMD_APP], unit_port(u)))[0] == 200 for u in (clean, stopped))


def test_stop_and_start_playbooks_on_the_systemd_host():
    """stop.yml and start.yml limited to the systemd application host: the services role's stop
    closes every slot port there (units inactive) and its start opens them again, healthy."""
    ports = [port + CATALOG.INSTANCE_PORT_OFFSET for port in SERVICES.values()]

    def listening():
        return [port for port in ports if get("http://%s:%d/health" % (ADDRESS[SYSTEMD_APP], port), timeout=2)[0] == 200]

    for playbook, want in (("stop.yml", []), ("start.yml", ports)):
        run = ansible_playbook_start(playbook, "--limit", SYSTEMD_APP)
        out = run.communicate()[0]
        assert run.returncode == 0, out[-4000:]
        assert listening() == want, (playbook, out[-2000:])


def scan_processes():
    """security_scan.yml's process check alone on the systemd application host: the report it wrote
    there, the playbook's exit status and output."""
    run = ansible_playbook_start("security_scan.yml", "--limit", SYSTEMD_APP, "-e", json.dumps({"acgs_security_checks": ["processes"]}))
    out = run.communicate()[0]
    path = docker_exec(SYSTEMD_APP, "sh", "-c", "ls -t /var/lib/acgs-results/security/scan-*.json | head -n 1").stdout.strip()
    report = json.loads(docker_exec(SYSTEMD_APP, "cat", path).stdout)
    return report, run.returncode, out


def test_security_scan_reads_the_units_on_the_systemd_host():
    """The scan's process check lists the slots' units (systemctl show, in supervisorctl's shape) and the
    users of their processes: none runs as root there, and the check ran (no processes-unchecked: with
    no unit listed, the users are unknown). Two slots then run as root (a runtime drop-in User=root): the
    check names both and the scan fails (it once read the listing as one line, the first slot alone)."""
    report, rc, out = scan_processes()
    assert rc == 0, out[-4000:]
    assert [f["id"] for f in report["findings"] if f["id"].startswith("process")] == [], report
    assert re.search(r'"\s*processes\s+ok"', out), out[-3000:]

    units = [line.split()[0] for line in service_pids(SYSTEMD_APP)][-2:]
    as_root = "mkdir -p /run/systemd/system/{0}.d && printf '[Service]\\nUser=root\\n' > /run/systemd/system/{0}.d/root.conf"
    try:
        for unit in units:
            docker_exec(SYSTEMD_APP, "sh", "-c", as_root.format(unit))
        docker_exec(SYSTEMD_APP, "systemctl", "daemon-reload")
        docker_exec(SYSTEMD_APP, "systemctl", "restart", *units)
        assert [unit_properties(SYSTEMD_APP, unit, "User")["User"] for unit in units] == ["root", "root"]
        report, rc, out = scan_processes()
        assert rc != 0, out[-4000:]
        assert sorted(f["id"] for f in report["findings"] if f["id"].startswith("process")) == sorted(
            "process-root:" + unit[:-len(".service")] for unit in units), report
    finally:
        docker_exec(SYSTEMD_APP, "sh", "-c", " ".join("rm -rf /run/systemd/system/%s.d;" % unit for unit in units))
        docker_exec(SYSTEMD_APP, "systemctl", "daemon-reload")
        docker_exec(SYSTEMD_APP, "systemctl", "restart", *units)
    assert [unit_properties(SYSTEMD_APP, unit, "User")["User"] for unit in units] != ["root", "root"]


def switch_runtime(runtime):
    """playbooks/services.yml limited to the systemd application host with another runtime."""
    run = ansible_playbook_start("services.yml", "--limit", SYSTEMD_APP, "-e", "acgs_services_runtime=" + runtime)
    out = run.communicate()[0]
    assert run.returncode == 0, out[-4000:]


def test_switch_the_systemd_host_to_supervisor_and_back():
    """A runtime switch is a converge of playbooks/services.yml. To supervisor on the systemd application
    host: the slots' units are stopped, disabled and removed (switch_systemd.yml) and supervisord's
    programs answer on the same ports. Back to systemd: the programs are removed (switch_supervisor.yml)
    and the units run again. Each switch first drains the host's servers in HAProxy (switch_drain.yml),
    and puts them back to ready once HAProxy sees them UP (switch_undrain.yml): under load through
    HAProxy on the load balancer, no request fails during the two switches (the counts are written to
    build/multihost-switch-load.json). One of the host's servers is in maintenance, as a security
    incident leaves it: it stays there."""
    ports = [port + CATALOG.INSTANCE_PORT_OFFSET for port in SERVICES.values()]
    addresses = ["%s:%d" % (ADDRESS[SYSTEMD_APP], port) for port in ports]
    unit_files = "ls %s/acgs-*-service-*.service 2>/dev/null || true" % UNIT_DIR
    # HAProxy's server of auth-service's blue slot on this host (SERVICE-SLOT-N, the Nth instance host)
    held = ("be_auth-service", "auth-service-blue-%d" % (APPS.index(SYSTEMD_APP) + 1))
    workdir = os.path.join(REPO, "build")
    os.makedirs(workdir, exist_ok=True)
    stop_file = os.path.join(workdir, "multihost-switch-load.stop")
    during = os.path.join(workdir, "multihost-switch-load.json")
    assert haproxy_command("set server %s/%s state maint" % held).strip() == ""
    try:
        loader = load_through_haproxy("/health", 10, 900, stop_file, during)
        try:
            try:
                switch_runtime("supervisor")
                assert docker_exec(SYSTEMD_APP, "sh", "-c", unit_files).stdout.split() == []

                def programs():  # RUNNING once they outlived supervisord's startsecs
                    status = docker_exec(SYSTEMD_APP, "supervisorctl", "status", check=False).stdout
                    return sorted(line.split()[0].rsplit("-", 1)[0] for line in status.splitlines()
                                  if "RUNNING" in line and line.startswith("acgs-"))

                assert wait_for(lambda: programs() == sorted("acgs-" + name for name in SERVICES), 30), programs()
                assert all(get("http://%s/health" % address)[0] == 200 for address in addresses)
            finally:
                # back to the host's runtime whatever happened: the later tests need it
                switch_runtime("systemd")
            units = [line.split()[0] for line in service_pids(SYSTEMD_APP)]
            assert len(units) == len(SERVICES), units
            assert docker_exec(SYSTEMD_APP, "supervisorctl", "status", check=False).stdout.strip() == ""
            assert all(get("http://%s/health" % address)[0] == 200 for address in addresses)
        finally:
            counts = stop_load(loader, stop_file, during)
        mine = dict(((srv["pxname"], srv["svname"]), srv["status"]) for srv in haproxy_servers() if srv["addr"] in addresses)
    finally:
        haproxy_command("set server %s/%s state ready" % held)
    assert counts["sent"] > 100 and counts["failed"] == 0, counts
    # the drained ones back to ready and UP (switch_undrain.yml waited for it), the one in maintenance kept
    assert len(mine) == len(ports) and mine.pop(held) == "MAINT", mine
    assert set(mine.values()) == {"UP"}, mine


def test_deploy_a_release_across_the_layout_under_load():
    """deploy.yml of a new release of fv-service across the multi-host layout, under load through HAProxy
    on the load balancer: the rollback_plan gate takes a verified backup on the database host (PostgreSQL,
    and Redis from the cache host over replication, verified with redis-check-rdb, which the backup
    installs there), the migrations gate tries it; the release goes into the idle slot on both application
    hosts (one under supervisord, one under systemd), traffic moves in HAProxy, and no request fails.
    The security_scan and performance gates are skipped here (the scan test above left a report with
    findings of this layout's test containers; test_deploy_gates_read_the_report_of_every_host reads them)."""
    release = RELEASE
    # forced: this machine's store may hold the scenario's release from older code (releases are immutable)
    build = ansible_playbook_start("build_release.yml", "-e", "acgs_release=" + release, "-e", "acgs_release_force=true")
    out = build.communicate()[0]
    assert build.returncode == 0, out[-4000:]
    workdir = os.path.join(REPO, "build")
    os.makedirs(workdir, exist_ok=True)
    stop_file = os.path.join(workdir, "multihost-deploy-load.stop")
    during = os.path.join(workdir, "multihost-deploy-load.json")
    loader = load_through_haproxy("/health", 10, 900, stop_file, during)
    try:
        run = ansible_playbook_start("deploy.yml", "-e", "acgs_release=" + release, "-e", json.dumps(
            {"acgs_deploy_services": ["fv-service"], "acgs_deploy_skip_gates": ["security_scan", "performance"],
             "acgs_blue_green_step_seconds": 1}))
        out = run.communicate()[0]
    finally:
        counts = stop_load(loader, stop_file, during)
    assert run.returncode == 0, out[-6000:]
    deploy_id = re.search(r"(deploy-[0-9]+) promoted", out).group(1)
    record = json.loads(docker_exec(APPS[0], "cat", "%s/deployments/%s.json" % (RESULTS_DIR, deploy_id)).stdout)
    gates = dict((gate["name"], gate) for gate in record["gates"])
    assert gates["rollback_plan"]["result"] == "passed" and gates["migrations"]["result"] == "passed", gates
    assert record["services"]["fv-service"]["outcome"] == "promoted", record
    # the backup the plan relies on: on the database host, both stores verified
    backup = json.loads(docker_exec(DB, "cat", "%s/backup_metadata/%s.json"
                                    % (RESULTS_DIR, gates["rollback_plan"]["backup_id"])).stdout)
    assert backup["status"] == "verified" and {"postgresql", "redis"} <= set(backup["components"]), backup
    status, _headers, body = get("http://%s:%d/api/v1/compliance/status" % (ADDRESS[LB], SERVICES["fv-service"]))
    assert status == 200 and body["version"] == release, body
    assert counts["sent"] > 100 and counts["failed"] == 0, counts


def test_deploy_gates_read_the_report_of_every_host():
    """The security_scan gate reads the newest scan on every host (security_scan.yml writes one on each),
    not only on the first application host: a critical finding planted in the second application host's
    newest report fails the gate, named with that host, and deploy.yml (of the release the test above
    deployed) stops before anything changes."""
    planted = "%s/security/scan-%d.json" % (RESULTS_DIR, time.time())
    finding = "planted-on-" + APPS[1]
    report = json.dumps({"findings": [{"severity": "critical", "id": finding}], "summary": {"critical": 1}})
    docker_exec(APPS[1], "sh", "-c", "mkdir -p %s/security && printf %%s %s > %s" % (RESULTS_DIR, shlex.quote(report), planted))
    before = [docker_exec(app, "cat", DEPLOY_STATE, check=False).stdout for app in APPS]
    try:
        run = ansible_playbook_start("deploy.yml", "-e", "acgs_release=" + RELEASE, "-e", json.dumps(
            # a service the release is not on yet: a deploy with nothing to do runs no gate
            {"acgs_deploy_services": ["pgc-service"], "acgs_deploy_skip_gates": ["rollback_plan", "migrations"]}))
        out = run.communicate()[0]
    finally:
        docker_exec(APPS[1], "rm", "-f", planted)
    assert run.returncode != 0, out[-4000:]
    assert re.search(r"gate\(s\)\s+security_scan\s+failed", out), out[-4000:]
    assert re.search(r"%s:\s+\S+\s+has\s+1\s+high\s+or\s+critical\s+finding\(s\):\s+%s" % (re.escape(APPS[1]), re.escape(finding)), out), out[-4000:]
    assert [docker_exec(app, "cat", DEPLOY_STATE, check=False).stdout for app in APPS] == before


def test_systemd_restarts_a_hung_slot():
    """The slot of the release the deploy test installed (its program notifies systemd) has systemd's
    watchdog (WatchdogSec=10, acgs_services_systemd_watchdog_sec). Frozen with SIGSTOP, as a hung event loop,
    it stops sending WATCHDOG=1: systemd logs the watchdog timeout, kills it and starts it again, and it
    answers. Without the watchdog a frozen process keeps its unit active and its port open forever."""
    units = docker_exec(SYSTEMD_APP, "systemctl", "list-units", "--state=active", "--no-legend", "--plain",
                        "acgs-fv-service-*.service").stdout.split()
    unit = [u for u in units if u.endswith(".service") and "(release %s," % RELEASE in
            unit_properties(SYSTEMD_APP, u, "Description")["Description"]][0]
    props = unit_properties(SYSTEMD_APP, unit, "MainPID", "WatchdogUSec", "NRestarts")
    assert props["WatchdogUSec"] == "10s", props
    old_pid, port = props["MainPID"], unit_port(unit)
    since = docker_exec(SYSTEMD_APP, "date", "+%s").stdout.strip()
    docker_exec(SYSTEMD_APP, "kill", "-STOP", old_pid)
    new_pid = wait_for(lambda: unit_properties(SYSTEMD_APP, unit, "MainPID")["MainPID"] not in ("0", old_pid)
                       and unit_properties(SYSTEMD_APP, unit, "MainPID")["MainPID"], 60)
    if not new_pid:
        docker_exec(SYSTEMD_APP, "kill", "-CONT", old_pid, check=False)
    assert new_pid, "%s still runs the frozen %s after 60 s" % (unit, old_pid)
    journal = docker_exec(SYSTEMD_APP, "journalctl", "--no-pager", "-u", unit, "--since", "@" + since).stdout
    assert "Watchdog timeout (limit 10s)!" in journal and "Failed with result 'watchdog'" in journal, journal
    assert int(unit_properties(SYSTEMD_APP, unit, "NRestarts")["NRestarts"]) == int(props["NRestarts"]) + 1
    assert wait_for(lambda: get("http://%s:%d/health" % (ADDRESS[SYSTEMD_APP], port))[0] == 200, 30)


def newest_record(host, kind):
    """The newest JSON record of a kind (backup_metadata, recovery_results) on a host."""
    return json.loads(docker_exec(host, "sh", "-c", "cat $(ls -t %s/%s/*.json | head -1)" % (RESULTS_DIR, kind)).stdout)


def test_backup_then_restore_across_the_layout():
    """backup.yml across the layout: the database host's set has PostgreSQL and Redis (from the cache
    host), each application host's set its configuration and data; each is verified.
    Then restore.yml (full) after a table, a Redis key and a service's configuration changed: one play
    on the database host and both application hosts, in step; the services of both hosts (each with its
    runtime) stop before the data is restored and start after it, each application host restores its own
    files; the table and the key are gone, the configuration is back, every slot runs a new process and
    every service answers through HAProxy."""
    import redis  # pylint: disable=import-outside-toplevel

    def database():
        conn = psycopg2.connect(host=ADDRESS[DB], port=PORTS["postgresql"], dbname="acgs", user="acgs",
                                password=secrets()["acgs_postgresql_password"], connect_timeout=5)
        conn.autocommit = True
        return conn

    cache = redis.Redis(host=ADDRESS[CACHE], port=PORTS["redis"], password=secrets()["acgs_redis_password"], socket_timeout=5)
    conn = database()
    with conn.cursor() as cur:  # what a run of this test that failed half-way left
        cur.execute("DROP TABLE IF EXISTS after_the_backup")
    conn.close()
    cache.delete("acgs:after-the-backup")
    run = ansible_playbook_start("backup.yml")
    out = run.communicate()[0]
    assert run.returncode == 0, out[-4000:]
    sets = {}
    for host in [DB] + APPS:
        meta = newest_record(host, "backup_metadata")
        assert meta["status"] == "verified" and meta["source_host"], (host, meta)
        if host == DB:
            assert {"postgresql", "redis"} <= set(meta["components"]), meta
        else:
            assert set(meta["components"]) == {"paths"}, meta
            assert any(name.startswith("paths/00-etc_acgs.tar") for name in meta["files"]), meta
        sets[host] = meta["backup_id"]

    conn = database()
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE after_the_backup (id int)")
    conn.close()
    cache.set("acgs:after-the-backup", "1")
    config = "/etc/acgs/services/auth-service-blue.json"
    original = docker_exec(APPS[0], "cat", config).stdout
    docker_exec(APPS[0], "sh", "-c", "echo '{\"changed\": \"after the backup\"}' > " + config)

    def slots(app):  # the slots' processes (not the remediation receiver's)
        return dict(line.split() for line in service_pids(app) if "-service-" in line)

    pids = dict((app, slots(app)) for app in APPS)
    assert all(pids.values()), pids

    # an application host without the set named: refused in pre-validation, before anything stops anywhere
    run = ansible_playbook_start("restore.yml", "-e", "acgs_restore_confirm=true", "-e", "acgs_restore_files_backup_id=backup-1")
    out = run.communicate()[0]
    assert run.returncode != 0, out[-6000:]
    assert re.search(r"No complete backup set backup-1 in \S+ on %s" % APPS[0], out), out[-6000:]
    assert dict((app, slots(app)) for app in APPS) == pids
    assert cache.get("acgs:after-the-backup") == b"1"

    run = ansible_playbook_start("restore.yml", "-e", "acgs_restore_confirm=true")
    out = run.communicate()[0]
    assert run.returncode == 0, out[-6000:]

    conn = database()
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('after_the_backup')")
        assert cur.fetchone()[0] is None
    conn.close()
    assert cache.get("acgs:after-the-backup") is None
    assert docker_exec(APPS[0], "cat", config).stdout == original
    for app in APPS:
        after = slots(app)
        assert set(after) == set(pids[app]), (app, after, pids[app])
        assert [name for name in after if after[name] == pids[app][name]] == [], (app, after, pids[app])
        record = newest_record(app, "recovery_results")
        assert record["backup_id"] == sets[app] and record["services_restarted"] is True, record
        assert set(record["phases"]) == {"pre_validation", "stop_services", "restore_data", "restore_configuration",
                                         "start_and_post_validation"}, record
        assert record["restored_configuration"], record
    record = newest_record(DB, "recovery_results")
    assert record["backup_id"] == sets[DB] and record["services_restarted"] is False, record
    assert {"postgresql", "redis"} <= set(record["restored_data"]) and record["constitutional_hash_compliant"] is True, record
    assert all(get("http://%s:%d/health" % (ADDRESS[LB], port))[0] == 200 for port in SERVICES.values())


def test_shutdown_then_emergency_restart_across_both_runtimes():
    """shutdown.yml (graceful) across the layout: HAProxy on the load balancer answers 503 itself, state
    shutdown, and every slot on both application hosts is stopped (supervisord's programs on one, the
    units on the other: acgs_shutdown with each host's runtime), every port closed. Then
    emergency.yml restart: every service healthy through HAProxy again, on both hosts."""
    ports = [port + CATALOG.INSTANCE_PORT_OFFSET for port in SERVICES.values()]

    def answering(app):
        return [port for port in ports if get("http://%s:%d/health" % (ADDRESS[app], port), timeout=2)[0] == 200]

    run = ansible_playbook_start("shutdown.yml")
    out = run.communicate()[0]
    assert run.returncode == 0, out[-4000:]
    assert [answering(app) for app in APPS] == [[] for _app in APPS], out[-3000:]
    assert service_pids(SYSTEMD_APP) == [], out[-3000:]
    status, _headers, body = get("http://%s:%d/health" % (ADDRESS[LB], SERVICES["auth-service"]))
    assert status == 503 and body["state"] == "shutdown", body

    run = ansible_playbook_start("emergency.yml", "-e", "acgs_emergency_action=restart")
    out = run.communicate()[0]
    assert run.returncode == 0, out[-4000:]
    assert [answering(app) for app in APPS] == [ports for _app in APPS], out[-3000:]
    assert all(get("http://%s:%d/health" % (ADDRESS[LB], port))[0] == 200 for port in SERVICES.values())


def test_check_playbook_passes_and_a_second_converge_changes_nothing():
    """check.yml (every service healthy with the hash, PostgreSQL, Redis, NATS) from the controller,
    beside a second converge of site.yml (both only read the converged stack): changed=0 on every
    host and no service process restarted."""
    pids = dict((app, service_pids(app)) for app in APPS)
    assert all(pids.values()), pids
    check = ansible_playbook_start("check.yml")
    site = ansible_playbook_start("site.yml")
    check_out, site_out = check.communicate()[0], site.communicate()[0]
    assert check.returncode == 0, check_out[-4000:]
    assert "HEALTHY" in check_out.upper() and HASH in check_out, check_out[-4000:]
    assert site.returncode == 0, site_out[-4000:]
    recap = [line for line in site_out.splitlines() if " : ok=" in line]
    assert len(recap) == len(PLATFORMS), site_out[-4000:]
    changed = [line for line in site_out.splitlines() if line.startswith("TASK [") or line.startswith("changed:")]
    changed = [task + " " + line for task, line in zip(changed, changed[1:]) if line.startswith("changed:")]
    assert all("changed=0" in line and "failed=0" in line and "unreachable=0" in line for line in recap), (recap, changed)
    assert dict((app, service_pids(app)) for app in APPS) == pids

"""Verify the converged all-in-one stack against the real servers.

Each test reads or drives the live stack (HAProxy, the 7 instances, PostgreSQL,
Redis, NATS, Prometheus); waits poll a condition with a deadline.
"""
import importlib.util
import json
import os
import re
import shlex
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import psycopg2
import pytest
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


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
CA = "/etc/haproxy/acgs-ca.crt"
SERVICES = dict((svc["name"], svc["port"]) for svc in CATALOG.SERVICES)
AUTH, FV = SERVICES["auth-service"], SERVICES["fv-service"]
# Each service runs in instance slots (supervisor programs acgs-NAME-blue, acgs-NAME-green); the
# deploy state says which slot has the traffic and which run (blue only before any deploy).
DEPLOY_STATE = "/var/lib/acgs-deploy/state.json"


def deploy_state():
    try:
        with open(DEPLOY_STATE) as handle:
            return json.load(handle).get("services", {})
    except (OSError, ValueError):
        return {}


def active_program(name):
    """The supervisor program of the slot that has the service's traffic."""
    return "acgs-%s-%s" % (name, deploy_state().get(name, {}).get("active", "blue"))


def programs_that_run():
    """Every slot program the deploy state says runs (the active one, and a kept one at weight 0)."""
    state = deploy_state()
    names = set()
    for svc in CATALOG.SERVICES:
        slots = state.get(svc["name"], {}).get("slots", {"blue": {"running": True}})
        names |= set("acgs-%s-%s" % (svc["name"], slot) for slot, data in slots.items() if data.get("running"))
    return names


def slot_programs(names):
    """The services' slot programs among supervisor program ``names`` (not acgs-remediation and the like)."""
    slots = set("acgs-%s-%s" % (svc["name"], slot) for svc in CATALOG.SERVICES for slot in ("blue", "green"))
    return set(names) & slots


def get(url, context=None, timeout=5):
    """(status, headers, parsed JSON or text) of a GET, 4xx/5xx included."""
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as resp:
            status, headers, body = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        status, headers, body = err.code, err.headers, err.read()
    try:
        return status, headers, json.loads(body)
    except ValueError:
        return status, headers, body.decode("utf-8", "replace")


def wait_for(predicate, deadline_s, interval=0.2):
    """Poll predicate until it returns truthy or the deadline passes; returns its last value."""
    end = time.monotonic() + deadline_s
    value = predicate()
    while not value and time.monotonic() < end:
        time.sleep(interval)
        value = predicate()
    return value


@pytest.mark.parametrize("name,port", sorted(SERVICES.items()))
def test_health_through_haproxy(name, port):
    status, headers, body = get("http://127.0.0.1:%d/health" % port)
    assert status == 200, body
    assert body["status"] == "healthy"
    assert body["service"] == name
    assert body["version"]
    assert headers["X-Constitutional-Hash"] == HASH


@pytest.mark.parametrize("name,port", sorted(SERVICES.items()))
def test_compliance_hash(name, port):
    status, headers, body = get("http://127.0.0.1:%d/api/v1/compliance/status" % port)
    assert status == 200
    assert body["data"]["constitutional_hash"] == HASH


@pytest.mark.parametrize("port", sorted(p + CATALOG.TLS_PORT_OFFSET for p in SERVICES.values()))
def test_tls_frontend_verifies_with_generated_ca(port):
    status, headers, body = get("https://localhost:%d/health" % port, context=ssl.create_default_context(cafile=CA))
    assert status == 200 and body["status"] == "healthy"


def test_tls_frontend_is_not_trusted_without_the_ca():
    with pytest.raises(urllib.error.URLError) as err:
        urllib.request.urlopen("https://localhost:%d/health" % (AUTH + CATALOG.TLS_PORT_OFFSET), timeout=5, context=ssl.create_default_context())
    assert "CERTIFICATE_VERIFY_FAILED" in str(err.value)


def test_instances_are_not_on_public_ports(host):
    for port in SERVICES.values():
        assert host.socket("tcp://127.0.0.1:%d" % (port + 10000)).is_listening
    haproxy_pids = host.process.filter(comm="haproxy")
    assert haproxy_pids, "haproxy is not running"


def test_metrics_carry_runbook_series():
    status, headers, text = get("http://127.0.0.1:%d/metrics" % AUTH)
    assert status == 200
    for series in ("acgs_service_up", "acgs_requests_total", "acgs_errors_total",
                   "acgs_response_time_seconds_bucket", "acgs_constitutional_compliance"):
        assert series in text


def haproxy_admin(command):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect("/run/haproxy/admin.sock")
    sock.sendall(command.encode() + b"\n")
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
    sock.close()
    return b"".join(chunks).decode()


def test_haproxy_runtime_api_is_admin_level():
    state = haproxy_admin("show servers state")
    for name in SERVICES:
        assert "be_%s" % name in state
    # Only an admin-level socket may change a server; set it to its current weight.
    assert haproxy_admin("set weight be_auth-service/auth-service-blue 100").strip() == ""


def test_haproxy_prometheus_exporter():
    status, headers, text = get("http://127.0.0.1:%d/metrics" % PORTS["haproxy_stats"])
    assert status == 200 and "haproxy_backend_status" in text


def test_prometheus_scrapes_services_haproxy_and_itself():
    def all_up():
        status, headers, body = get("http://127.0.0.1:%d/api/v1/targets?state=active" % PORTS["prometheus"])
        targets = body["data"]["activeTargets"]
        jobs = {}
        for target in targets:
            jobs.setdefault(target["labels"]["job"], []).append(target["health"])
        # job acgs: the slot of each service that takes the traffic (file_sd, rewritten by deploys)
        slots = [t["labels"].get("slot") for t in targets if t["labels"]["job"] == "acgs"]
        # job node: the database host's node exporter (the backup job's textfile metrics)
        ok = (jobs.get("acgs", []).count("up") == 7 and jobs.get("haproxy") == ["up"]
              and jobs.get("prometheus") == ["up"] and jobs.get("node") == ["up"]
              and all(slot in ("blue", "green") for slot in slots))
        return ok and jobs
    assert wait_for(all_up, 60, interval=1), get("http://127.0.0.1:%d/api/v1/targets" % PORTS["prometheus"])[2]
    status, headers, rules = get("http://127.0.0.1:%d/api/v1/rules" % PORTS["prometheus"])
    names = [r["name"] for g in rules["data"]["groups"] for r in g["rules"]]
    assert "ACGSConstitutionalComplianceViolation" in names
    assert {"ACGSBackupFailed", "ACGSBackupStale", "ACGSBackupMissing"} <= set(names)


def test_redis_requires_password():
    sock = socket.create_connection(("127.0.0.1", PORTS["redis"]), timeout=5)
    sock.sendall(b"PING\r\n")
    reply = sock.recv(128)
    sock.close()
    assert reply.startswith(b"-NOAUTH"), reply


def test_nats_has_jetstream():
    status, headers, body = get("http://127.0.0.1:%d/varz" % PORTS["nats_monitor"])
    assert status == 200 and body["jetstream"]["config"]["store_dir"]


def test_secrets_file_is_private(host):
    secrets = host.file("/etc/acgs/secrets.yml")
    assert secrets.mode == 0o600 and secrets.user == "root"
    assert "acgs_postgresql_password" in secrets.content_string
    # The rendered service configuration holds credentials: not world-readable.
    assert host.file("/etc/acgs/services/auth-service-blue.json").mode == 0o640


def supervisor_pids():
    out = subprocess.run(["supervisorctl", "status"], capture_output=True, text=True, check=False).stdout
    return dict((line.split()[0], line.split()[3].rstrip(",")) for line in out.splitlines() if "RUNNING" in line)


def test_postgresql_outage_turns_dependents_unhealthy_and_back(tmp_path):
    before = supervisor_pids()
    subprocess.run(["service", "postgresql", "stop"], check=True, capture_output=True)
    try:
        started = time.monotonic()
        down = wait_for(lambda: all(get("http://127.0.0.1:%d/health" % p)[0] == 503 for p in SERVICES.values()), 10)
        elapsed = time.monotonic() - started
        assert down, "not every PostgreSQL-dependent service reported 503 within 10 s"
        status, headers, body = get("http://127.0.0.1:%d/health" % AUTH)
        assert body["status"] == "unhealthy" and body["dependencies"]["postgresql"]["status"] == "down"
        print("503 after %.2f s" % elapsed)
        # The runbook's health check fails the job (AWX shows it red) while critical.
        result = playbook("health_check.yml", "-e", "acgs_results_dir=%s" % tmp_path)
        assert result.returncode != 0 and "ACGS platform is CRITICAL" in result.stdout, result.stdout[-3000:]
        assert json.loads((tmp_path / "health_check.json").read_text())["status"] == "critical"
    finally:
        subprocess.run(["service", "postgresql", "start"], check=True, capture_output=True)
    assert wait_for(lambda: all(get("http://127.0.0.1:%d/health" % p)[0] == 200 for p in SERVICES.values()), 15)
    assert supervisor_pids() == before, "services were restarted instead of recovering"


BAD_OVERRIDES = [
    ({"acgs_service_overrides": {"fv-service": {"port": AUTH}}}, "port collision: service 'fv-service'"),
    ({"acgs_service_overrides": {"gs-service": {"port": PORTS["postgresql"]}}}, "is already used by postgresql"),
    ({"acgs_service_overrides": {"ec-service": {"criticality": "urgent"}}}, "service 'ec-service': unknown criticality 'urgent'"),
    ({"acgs_service_overrides": {"ac-service": {"dependencies": ["postgresql", "mongodb"]}}},
     "service 'ac-service' depends on unknown component 'mongodb'"),
    ({"acgs_constitutional_hash": "not-a-hash"}, "acgs_constitutional_hash 'not-a-hash' is malformed"),
]


def playbook_start(name, *args, cwd=REPO):
    """ansible-playbook started; .communicate() ends it (stdout, with stderr in it)."""
    return subprocess.Popen(
        ["ansible-playbook", "-i", os.path.join(REPO, "inventories", "local"),
         os.path.join(REPO, "playbooks", name)] + list(args),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd,
        env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1"))


def playbook(name, *args, cwd=REPO):
    proc = playbook_start(name, *args, cwd=cwd)
    stdout = proc.communicate()[0]
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout)


@pytest.mark.parametrize("extra,message", BAD_OVERRIDES)
def test_prechecks_refuse_bad_inventory_before_changing_anything(extra, message):
    result = playbook("site.yml", "-e", json.dumps(extra))
    assert result.returncode != 0
    assert message in result.stdout, result.stdout[-3000:]
    assert "changed=0" in result.stdout


def test_health_check_playbook_reports_healthy_then_degraded_without_failing(tmp_path):
    result = playbook("health_check.yml", "-e", "acgs_results_dir=%s" % tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    report = json.loads((tmp_path / "health_check.json").read_text())
    assert report["status"] == "healthy"
    assert report["constitutional_hash"]["compliance_percent"] == 100
    # A medium-criticality service down: degraded, reported, not failed.
    fv_program = active_program("fv-service")
    subprocess.run(["supervisorctl", "stop", fv_program], check=True, capture_output=True)
    try:
        result = playbook("health_check.yml", "-e", "acgs_results_dir=%s" % tmp_path)
        assert result.returncode == 0, result.stdout[-3000:]
        report = json.loads((tmp_path / "health_check.json").read_text())
        assert report["status"] == "degraded"
        assert "DEGRADED" in result.stdout
    finally:
        subprocess.run(["supervisorctl", "start", fv_program], check=True, capture_output=True)
    assert wait_for(lambda: get("http://127.0.0.1:%d/health" % FV)[0] == 200, 15)


def test_vault_encrypted_secrets_file_is_used(tmp_path):
    secrets = tmp_path / "secrets.yml"
    secrets.write_text(open("/etc/acgs/secrets.yml").read())
    secrets.chmod(0o600)
    password = tmp_path / "vault-pass"
    password.write_text("correct horse battery staple\n")
    subprocess.run(["ansible-vault", "encrypt", "--vault-password-file", str(password), str(secrets)],
                   check=True, capture_output=True, cwd=REPO)
    assert secrets.read_text().startswith("$ANSIBLE_VAULT;")
    result = playbook("check.yml", "-e", "acgs_secrets_file=%s" % secrets, "--vault-password-file", str(password))
    assert result.returncode == 0, result.stdout[-3000:]
    assert "correct horse" not in result.stdout
    result = playbook("check.yml", "-e", "acgs_secrets_file=%s" % secrets)
    assert result.returncode != 0 and "encrypted with ansible-vault, run with" in result.stdout


def test_site_with_secrets_as_extra_vars_in_a_fresh_directory_and_in_check_mode_changes_nothing(tmp_path):
    """AWX's way: its ACGS secrets credential passes every secret as extra vars to a job in a
    directory that has never seen a secrets file. The acgs_secrets_file named is one that
    reading would fail on and the prechecks would refuse (world-readable, not a mapping):
    site.yml neither reads nor writes it, changes nothing, restarts nothing, and the services
    and the checks still authenticate with the passwords the stack has. Beside it (both only
    read the converged stack, so they run at once) site.yml --check reports no change either."""
    secrets = yaml.safe_load(open("/etc/acgs/secrets.yml"))
    extravars = tmp_path / "extravars"
    extravars.write_text(json.dumps(secrets))
    decoy = tmp_path / "secrets.yml"
    decoy.write_text("not: [a, mapping\n")
    decoy.chmod(0o644)
    pids = supervisor_pids()
    check = playbook_start("site.yml", "--check")
    result = playbook("site.yml", "-e", "@%s" % extravars, "-e", "acgs_secrets_file=%s" % decoy, cwd=str(tmp_path))
    check_out = check.communicate()[0]
    assert check.returncode == 0, check_out[-3000:]
    assert "changed=0" in check_out and "failed=0" in check_out, check_out[-3000:]
    assert result.returncode == 0, result.stdout[-3000:]
    assert "changed=0" in result.stdout and "failed=0" in result.stdout, result.stdout[-3000:]
    assert decoy.read_text() == "not: [a, mapping\n" and decoy.stat().st_mode & 0o777 == 0o644
    assert sorted(tmp_path.iterdir()) == [extravars, decoy]
    assert supervisor_pids() == pids
    for port in SERVICES.values():
        assert get("http://127.0.0.1:%d/health" % port)[0] == 200
    psycopg2.connect(host="127.0.0.1", port=PORTS["postgresql"], dbname="acgs", user="acgs",
                     password=secrets["acgs_postgresql_password"], connect_timeout=5).close()
    sock = socket.create_connection(("127.0.0.1", PORTS["redis"]), timeout=5)
    sock.sendall(b"AUTH %s\r\n" % secrets["acgs_redis_password"].encode())
    reply = sock.recv(128)
    sock.close()
    assert reply == b"+OK\r\n", reply


def plant_reused_pids(daemons, pid):
    """Stop each of ``daemons`` and write ``pid`` into its pid file, as a killed machine whose pids were
    reused leaves it; returns the daemons' pid files and programs (roles/common's acgs_init_pidfiles)."""
    with open(os.path.join(REPO, "roles", "common", "defaults", "main", "paths.yml")) as handle:
        pidfiles = yaml.safe_load(handle)["acgs_init_pidfiles"]
    for name in daemons:
        subprocess.run(["service", name, "stop"], check=True, capture_output=True)
        with open(pidfiles[name]["path"], "w") as handle:
            handle.write("%d\n" % pid)
        # what made a start a no-op: Debian's status takes any live process with the pid for the daemon
        assert subprocess.run(["service", name, "status"], capture_output=True, check=False).returncode == 0, name
    return pidfiles


def test_stop_then_start_playbooks():
    """stop.yml: every service process gone, every instance port closed; start.yml: healthy again. Before
    start.yml, Redis and Prometheus are stopped too with pid files naming another live process, as after
    a killed machine (pid_max is 32768 here, and a CI's converge once waited for a daemon in vain):
    start.yml removes those files (acgs_pidfile), starts both, and leaves the other process alone."""
    instances = dict((svc["name"], svc["port"] + CATALOG.INSTANCE_PORT_OFFSET) for svc in CATALOG.SERVICES)
    instances.update(("%s green" % svc["name"], svc["port"] + CATALOG.INSTANCE_PORT_OFFSET + CATALOG.GREEN_PORT_OFFSET)
                     for svc in CATALOG.SERVICES)
    result = playbook("stop.yml")
    assert result.returncode == 0, result.stdout[-3000:]
    assert slot_programs(supervisor_pids()) == set(), "programs still running after stop.yml"
    for name, port in instances.items():
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        # this machine's processes only: a container's (the multihost scenario's) are in another mount namespace
        found = subprocess.run(["pgrep", "--ns", str(os.getpid()), "--nslist", "mnt", "-f", "services/%s-" % name.split()[0]],
                               capture_output=True, check=False)
        assert found.returncode == 1, "%s still has a process: %s" % (name, found.stdout)
    # Infrastructure stays up unless asked.
    socket.create_connection(("127.0.0.1", PORTS["postgresql"]), timeout=1).close()
    daemons = ["redis-server", "prometheus"]
    stranger = subprocess.Popen(["sleep", "600"])
    try:
        pidfiles = plant_reused_pids(daemons, stranger.pid)
        result = playbook("start.yml")
        assert result.returncode == 0, result.stdout[-3000:]
        assert "ACGS platform: HEALTHY" in result.stdout, result.stdout[-3000:]
        for name in daemons:
            with open(pidfiles[name]["path"]) as handle:
                pid = int(handle.read().split()[0])
            assert pid != stranger.pid and os.path.samefile("/proc/%d/exe" % pid, pidfiles[name]["executable"]), name
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()
        for name in daemons:  # the stranger is gone, so a pid file naming it no longer fools a start
            subprocess.run(["service", name, "start"], check=False, capture_output=True)
    assert slot_programs(supervisor_pids()) == programs_that_run()
    for port in SERVICES.values():
        assert get("http://127.0.0.1:%d/health" % port)[0] == 200


def test_services_converge_stops_an_orphan_holding_a_slot_port():
    """A slot's process that supervisord does not run holds the slot's port, as the programs of a killed
    supervisord do (reparented to init): the services' converge (playbooks/services.yml) stops it before
    it starts the slot (acgs_slots' orphans: its command line names the slot's configuration), and the
    slot then answers from supervisord's program. Before, the converge passed against the orphan while
    the program could not bind."""
    program = sorted(name for name in programs_that_run() if "-fv-service-" in name)[0]
    port = [svc["port"] for svc in CATALOG.SERVICES if svc["name"] == "fv-service"][0] + CATALOG.INSTANCE_PORT_OFFSET
    if program.endswith("-green"):
        port += CATALOG.GREEN_PORT_OFFSET
    with open(os.path.join(REPO, "roles", "supervisor", "defaults", "main.yml")) as handle:
        conf_dir = yaml.safe_load(handle)["acgs_supervisor_conf_dir"]  # where the programs go
    with open(os.path.join(conf_dir, "%s.conf" % program)) as handle:
        command = [line.split("=", 1)[1] for line in handle.read().splitlines() if line.startswith("command=")][0]

    def health():  # 0 while nothing listens
        try:
            return get("http://127.0.0.1:%d/health" % port)[0]
        except OSError:
            return 0

    subprocess.run(["supervisorctl", "stop", program], check=True, capture_output=True)
    # python3 -u: not the program's command line, as an older release's orphan is not, so that the supervisor
    # role's acgs_supervisor_orphans leaves it to acgs_slots, which knows it by the slot's configuration
    argv = shlex.split(command)
    orphan = subprocess.Popen(argv[:1] + ["-u"] + argv[1:], user="acgs", group="acgs", extra_groups=[], start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: health() == 200, 15), "the orphan does not answer"
        result = playbook("services.yml")
        assert result.returncode == 0, result.stdout[-3000:]
        assert orphan.wait(timeout=5) is not None  # stopped by the converge (it drains and exits at SIGTERM)
        # RUNNING once it outlived startsecs
        pid = wait_for(lambda: supervisor_pids().get(program), 5)
        assert pid and int(pid) != orphan.pid, subprocess.run(["supervisorctl", "status"], capture_output=True, text=True, check=False).stdout
        assert health() == 200
    finally:
        if orphan.poll() is None:
            orphan.kill()
            orphan.wait()
        subprocess.run(["supervisorctl", "start", program], check=False, capture_output=True)


def test_a_killed_supervisords_programs_are_stopped_and_run_under_the_new_one():
    """supervisord SIGKILLed alone (the OOM killer): its programs (slots, NATS, the exporters, the remediation
    receiver) run on under init, holding their ports. The services' converge (playbooks/services.yml, whose
    supervisor role starts supervisord) stops them first (acgs_supervisor_orphans), so every program runs
    under the new supervisord, none of the old processes is left, and the services answer."""
    before = supervisor_pids()
    assert "nats-server" in before and len(slot_programs(before)) >= len(SERVICES), before
    with open(os.path.join(REPO, "roles", "supervisor", "defaults", "main.yml")) as handle:
        pidfile = yaml.safe_load(handle)["acgs_supervisor_pidfile"]
    with open(pidfile) as handle:
        os.kill(int(handle.read().split()[0]), 9)
    assert wait_for(lambda: subprocess.run(["supervisorctl", "pid"], capture_output=True, check=False).returncode != 0, 10)
    result = playbook("services.yml")
    assert result.returncode == 0, result.stdout[-3000:]
    plain = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)  # Molecule's verifier runs with ANSIBLE_FORCE_COLOR
    assert re.search(r"Stop the programs a killed supervisord left running\] \**\nchanged:", plain), plain[-3000:]
    assert wait_for(lambda: set(supervisor_pids()) >= set(before), 30), (before, supervisor_pids())
    after = supervisor_pids()
    for program, pid in before.items():
        assert not os.path.exists("/proc/%s" % pid), "%s's old process %s is still there" % (program, pid)
        assert after[program] != pid
    for port in SERVICES.values():
        assert get("http://127.0.0.1:%d/health" % port)[0] == 200

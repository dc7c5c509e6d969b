#!/usr/bin/env bash
# make ee-image: the execution environment built for real on this machine's Docker engine and
# a job run inside it, offline (no image registry, no Galaxy; the Debian mirror and PyPI only).
#  1. docker: Debian's docker.io (installed if missing); dockerd started in the background when
#     `docker info` fails (log: build/ee-image/dockerd.log), polled until it answers.
#  2. base image acgs-ee-base:bookworm, kept once made: debootstrap --variant=minbase of bookworm
#     with python3, pip and venv, given this machine's local CA certificates (containers reach
#     PyPI through the same TLS-inspecting egress as the host), then `docker import`.
#  3. ansible-builder build (v3, docker) of scripts/ee_offline_definition.py's copy of
#     execution-environment.yml: that base image, apt for $PKGMGR, the collections from the
#     build context (--offline); tagged acgs-ee:<galaxy.yml version>.
#  4. the image checked: acgs.platform of this version and its dependencies installed,
#     pg_dump 15, the modules' Python libraries.
#  5. ansible-runner run --process-isolation (docker, --network=host) of
#     playbooks/health_check.yml against the live stack: a project of the playbooks alone (no
#     collections/ beside them, no ansible.cfg), so acgs.platform comes from the image; the
#     secrets as extra vars (env/extravars, 0600, removed after the run) from the secrets file,
#     as AWX's "ACGS secrets" credential passes them; judged from the job's artifacts.
# Prints each step's seconds. Needs `make build` first (the Makefile target does it).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/build/ee-image
base=${ACGS_EE_BASE_IMAGE:-acgs-ee-base:bookworm}
version=$(python3 -c "import yaml; print(yaml.safe_load(open('galaxy.yml'))['version'])")
tag=${ACGS_EE_IMAGE:-acgs-ee:$version}
secrets=${ACGS_SECRETS_FILE:-/etc/acgs/secrets.yml}
mkdir -p "$out"

declare -a rows=()
step_start=0
step() { step_start=$(date +%s.%N); echo "== $1"; }
done_step() { rows+=("$(awk -v name="$1" -v a="$step_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%-8s %6.1f s", name, b - a }')"); }
report() { echo "== make ee-image: what each step cost"; printf '%s\n' "${rows[@]}"; }
trap report EXIT

# poll CMD... every half second, at most $1 seconds
poll() { local limit=$1; shift; local end=$(( $(date +%s) + limit ))
  until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -lt "$end" ] || return 1; sleep 0.5; done; }

step docker
if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  echo "starting dockerd (log: $out/dockerd.log)"
  setsid dockerd >"$out/dockerd.log" 2>&1 < /dev/null &
  poll 60 docker info || { tail -20 "$out/dockerd.log"; echo "dockerd did not answer in 60 s"; exit 1; }
fi
docker info --format 'docker {{.ServerVersion}}, storage {{.Driver}}'
done_step docker

step "base image $base"
if docker image inspect "$base" >/dev/null 2>&1; then
  echo "kept from an earlier run"
else
  rootfs=$out/rootfs
  rm -rf "$rootfs"
  debootstrap --variant=minbase --include=python3,python3-pip,python3-venv,ca-certificates bookworm "$rootfs" \
    >"$out/debootstrap.log" 2>&1 || { tail -20 "$out/debootstrap.log"; exit 1; }
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
    chroot "$rootfs" update-ca-certificates >/dev/null
  fi
  tar -C "$rootfs" -c . | docker import - "$base"
  rm -rf "$rootfs"
fi
done_step base

step "ansible-builder build $tag"
python3 scripts/ee_offline_definition.py "$base" "$tag" "$out/execution-environment.yml"
rm -rf "$out/context"
ansible-builder build --file "$out/execution-environment.yml" --context "$out/context" \
  --container-runtime docker -v 3 >"$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }
docker image inspect "$tag" --format "$tag: {{.Id}}, {{.Size}} bytes"
done_step build

step "check the image"
docker run --rm "$tag" bash -c '
  ansible-galaxy collection list 2>/dev/null | grep -E "^# |^(acgs|community|grafana|ansible)\."
  pg_dump --version; zstd --version
  python3 -c "import psycopg2, redis, cryptography; print(\"psycopg2\", psycopg2.__version__, \"redis\", redis.__version__, \"cryptography\", cryptography.__version__)"
' >"$out/image.txt"
cat "$out/image.txt"
python3 - "$out/image.txt" "$version" <<'PY'
import re, sys
text, version = open(sys.argv[1]).read(), sys.argv[2]
problems = []
installed = dict(re.findall(r"^([a-z_]+\.[a-z_]+)\s+(\S+)", text, re.M))
if installed.get("acgs.platform") != version:
    problems.append("acgs.platform %s in the image, the checkout is %s" % (installed.get("acgs.platform"), version))
for dep in ("community.general", "community.postgresql", "community.crypto", "grafana.grafana"):
    if dep not in installed:
        problems.append("%s not in the image" % dep)
pg = re.search(r"pg_dump \(PostgreSQL\) (\d+)", text)
if not pg or int(pg.group(1)) < 15:
    problems.append("pg_dump older than the server's PostgreSQL 15: %s" % (pg and pg.group(0)))
if "psycopg2" not in text:
    problems.append("the modules' Python libraries do not import")
if problems:
    sys.exit("image: " + "; ".join(problems))
PY
done_step check

step "job: ansible-runner --process-isolation (docker) playbooks/health_check.yml"
job=$out/job
rm -rf "$job"
mkdir -p "$job/project/playbooks" "$job/env" "$job/inventory"
cp playbooks/*.yml "$job/project/playbooks/"
cp -r inventories/local/. "$job/inventory/"
trap 'rm -f "$job/env/extravars"; report' EXIT
# The secrets as AWX's credential passes them (extra vars: the common role neither reads nor
# writes a secrets file); the modules' libraries are the image's (pip), not Debian packages
# for the common role's apt task to install; the JSON result into the job's artifacts.
(umask 077; python3 - "$secrets" "$job/env/extravars" <<'PY'
import sys, yaml
with open(sys.argv[1]) as f:
    found = yaml.safe_load(f)
extra = {k: found[k] for k in ("acgs_postgresql_password", "acgs_redis_password")}
extra["acgs_module_packages_present"] = True
extra["acgs_health_results_file"] = "/runner/artifacts/health_check.json"
with open(sys.argv[2], "w") as f:
    yaml.safe_dump(extra, f)
PY
)
ANSIBLE_NOCOLOR=1 ansible-runner run "$job" -p playbooks/health_check.yml --ident job \
  --process-isolation --process-isolation-executable docker --container-image "$tag" \
  --container-option=--network=host >"$out/run.log" 2>&1 || true  # the artifacts say how it went
rm -f "$job/env/extravars"
python3 - "$job/artifacts" "$tag" "$secrets" <<'PY'
import glob, json, os, sys
artifacts, tag, secrets = sys.argv[1], sys.argv[2], sys.argv[3]
jobdir = os.path.join(artifacts, "job")
status = open(os.path.join(jobdir, "status")).read().strip()
rc = open(os.path.join(jobdir, "rc")).read().strip()
command = json.load(open(os.path.join(jobdir, "command")))["command"]
events = [json.load(open(p)) for p in glob.glob(os.path.join(jobdir, "job_events", "*.json"))]
health = [e for e in events if e.get("event") == "runner_on_ok"
          and e["event_data"].get("resolved_action") == "acgs.platform.acgs_health"]
problems = []
if status != "successful":
    problems.append("status %s" % status)
if rc != "0":
    problems.append("rc %s" % rc)
if command[:2] != ["docker", "run"] or tag not in command:
    problems.append("not run in %s: %s" % (tag, " ".join(command)))
if not health:
    problems.append("no runner_on_ok event of acgs.platform.acgs_health among %d events" % len(events))
elif not health[0]["event_data"].get("task_path", "").startswith("/usr/share/ansible/collections/"):
    problems.append("acgs_health ran from %s, not the image's collection" % health[0]["event_data"].get("task_path"))
result = os.path.join(artifacts, "health_check.json")
report = json.load(open(result)) if os.path.exists(result) else {}
if not report:
    problems.append("no health_check.json in the artifacts")
# The passwords went in as extra vars: none may be written into the artifacts.
import yaml
values = [str(v) for v in yaml.safe_load(open(secrets)).values() if v]
for path in glob.glob(os.path.join(artifacts, "**", "*"), recursive=True):
    if os.path.isfile(path):
        text = open(path, errors="replace").read()
        problems += ["a secret in %s" % path for v in values if v in text]
if report.get("status") == "critical":
    # The job ran in the image; the live stack it checked was down (the playbook fails then).
    problems.append("the platform was critical when checked (health_check.json; see %s)"
                    % os.path.join(os.path.dirname(os.path.dirname(artifacts)), "run.log"))
if problems:
    sys.exit("ansible-runner job in the EE: " + ", ".join(problems))
print("ansible-runner job in %s: status successful, rc 0, %d events, acgs_health ran from %s; platform %s"
      % (tag, len(events), os.path.dirname(health[0]["event_data"]["task_path"].split(":")[0]), report["status"]))
PY
done_step job

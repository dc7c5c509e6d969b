#!/usr/bin/env bash
# make awx-tests: the project run as AWX runs it, from what git gives AWX.
#  1. `git archive HEAD` becomes the job's project directory: no build/, no venv, no copy
#     of this collection anywhere; only the stock collections (community.*, as an execution
#     environment carries them) on ANSIBLE_COLLECTIONS_PATH, which is how AWX sets it.
#  2. AWX's project sync: collections/requirements.yml installs acgs.platform from the
#     project, its galaxy.yml dependencies found among the stock ones (--offline: no Galaxy).
#  3. AWX's job: `ansible-runner run` of playbooks/health_check.yml against the live stack
#     (read-only), judged from the runner's artifacts: status, rc, and a job event of the
#     acgs.platform.acgs_health task.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The project's own ansible.cfg applies, as under AWX; make exports the checkout's.
unset ANSIBLE_CONFIG

mkdir -p "$work/stock/ansible_collections" "$work/job/project" "$work/sync"
# Every stock namespace (community, grafana, ansible, awx), not acgs.
for ns in "$root"/build/collections/ansible_collections/*/; do
  ns=$(basename "$ns")
  [ "$ns" = acgs ] || ln -s "$root/build/collections/ansible_collections/$ns" "$work/stock/ansible_collections/$ns"
done
git archive HEAD | tar -x -C "$work/job/project"

echo "== project sync: collections/requirements.yml"
(cd "$work/job/project" && ANSIBLE_COLLECTIONS_PATH="$work/sync:$work/stock" \
  ansible-galaxy collection install --offline -r collections/requirements.yml -p "$work/sync")
manifest=$work/sync/ansible_collections/acgs/platform/MANIFEST.json
python3 - "$manifest" <<'PY'
import json, sys
info = json.load(open(sys.argv[1]))["collection_info"]
assert (info["namespace"], info["name"]) == ("acgs", "platform"), info
print("installed acgs.platform %s from the project" % info["version"])
PY

echo "== job: ansible-runner run -p playbooks/health_check.yml"
ANSIBLE_COLLECTIONS_PATH="$work/stock" ANSIBLE_NOCOLOR=1 ansible-runner run "$work/job" \
  -p playbooks/health_check.yml --inventory "$work/job/project/inventories/local" --ident job \
  || true  # the artifacts say how it went
python3 - "$work/job/artifacts/job" <<'PY'
import glob, json, os, sys
artifacts = sys.argv[1]
status = open(os.path.join(artifacts, "status")).read().strip()
rc = open(os.path.join(artifacts, "rc")).read().strip()
events = [json.load(open(p)) for p in glob.glob(os.path.join(artifacts, "job_events", "*.json"))]
health = [e for e in events if e.get("event") == "runner_on_ok"
          and e["event_data"].get("resolved_action") == "acgs.platform.acgs_health"]
problems = []
if status != "successful":
    problems.append("status %s" % status)
if rc != "0":
    problems.append("rc %s" % rc)
if not health:
    problems.append("no runner_on_ok event of acgs.platform.acgs_health among %d events" % len(events))
if problems:
    sys.exit("ansible-runner job: " + ", ".join(problems))
print("ansible-runner job: status successful, rc 0, %d events, acgs_health ran (%s)"
      % (len(events), health[0]["event_data"]["task"]))
PY

"""make awx-config-check: playbooks/awx_configure.yml checked without an AWX server.

1. Each awx.awx task of awx/configure.yml runs alone (--start-at-task) against a controller
   URL that refuses. A module rejects bad arguments before it connects, so every result,
   every loop item's too, must be the refused connection: the arguments are valid. It runs
   in a scratch copy without no_log (the secrets given are dummies), so results are shown.
2. The schedules parse with python-dateutil, as AWX parses them, within AWX's RRULE
   dialect, and fire when the runbook says.
3. The credential type injects exactly the secrets acgs.platform.common takes
   (roles/common/vars/main.yml), each from an input it declares.
4. Every survey question is complete and its default is among its choices.
"""
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml
from dateutil import rrule

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REFUSED = "Connection refused"


def load(path):
    with open(os.path.join(REPO, path)) as handle:
        return yaml.safe_load(handle)


def awx_tasks():
    return [task for task in load("awx/configure.yml") if any(key.startswith("awx.awx.") for key in task)]


def scratch_copy(where):
    """playbooks/awx_configure.yml and awx/ in WHERE, awx/configure.yml without no_log."""
    os.makedirs(os.path.join(where, "playbooks"))
    shutil.copy(os.path.join(REPO, "playbooks", "awx_configure.yml"), os.path.join(where, "playbooks"))
    shutil.copytree(os.path.join(REPO, "awx"), os.path.join(where, "awx"))
    tasks = load("awx/configure.yml")
    for task in tasks:
        task.pop("no_log", None)
    with open(os.path.join(where, "awx", "configure.yml"), "w") as handle:
        yaml.safe_dump(tasks, handle, sort_keys=False)


def run_alone(task, data, where):
    """The results of one task run by itself; a list of (item label or None, result)."""
    every_playbook = sorted(set(t["playbook"] for t in data["acgs_awx_job_templates"]))
    extra = {"acgs_awx_project_url": "https://git.invalid/acgs.platform.git", "acgs_postgresql_password": "unused",
             "acgs_redis_password": "unused", "acgs_awx_project_playbooks": every_playbook}
    env = dict(os.environ, CONTROLLER_HOST="https://127.0.0.1:9", CONTROLLER_USERNAME="admin",
               CONTROLLER_PASSWORD="unused", ANSIBLE_NOCOLOR="1", ANSIBLE_CALLBACK_RESULT_FORMAT="json")
    out = subprocess.run(["ansible-playbook", "playbooks/awx_configure.yml", "--check", "--start-at-task", task["name"],
                          "-e", json.dumps(extra)], cwd=where, env=env, capture_output=True, text=True, check=False)
    first = re.search(r"^TASK \[(.*?)\]", out.stdout, re.M)
    if not first or first.group(1) != task["name"]:
        return None, out.stdout[-2000:]
    results = []
    for line in out.stdout.splitlines():
        match = re.match(r"^(?:fatal|failed|ok|changed): \[localhost\](?: \(item=(.*)\))?(?::)?(?: FAILED!)? => (\{.*\})$", line)
        if match:
            results.append((match.group(1), json.loads(match.group(2))))
    return results, out.stdout[-2000:]


def check_arguments(data, where):
    problems = []
    scratch_copy(where)
    for task in awx_tasks():
        results, tail = run_alone(task, data, where)
        if results is None:
            problems.append("%s: did not run first:\n%s" % (task["name"], tail))
            continue
        items = [r for r in results if r[0] is not None]
        loop = task.get("loop")
        expected = len(data[loop.strip("{} ")]) if loop else 0
        if len(items) != expected:
            problems.append("%s: %d item results, expected %d:\n%s" % (task["name"], len(items), expected, tail))
        checked = items if loop else results
        if not checked:
            problems.append("%s: no result:\n%s" % (task["name"], tail))
        for label, result in checked:
            if REFUSED not in result.get("msg", ""):
                problems.append("%s%s: %s" % (task["name"], " (%s)" % label if label else "", result.get("msg", result)))
        print("%-55s %d call(s), arguments accepted" % (task["name"], len(checked)))
    return problems


def parse_rrule(text):
    """AWX's dialect (awx/api/serializers.py): DTSTART with TZID or Z, INTERVAL, no BYDAY=1SU."""
    problems = []
    if not re.match(r"^DTSTART(;TZID=[^:]+:\d{8}T\d{6}|:\d{8}T\d{6}Z) RRULE:\S+$", text):
        problems.append("not DTSTART;TZID=...:YYYYMMDDTHHMMSS RRULE:...")
    if "INTERVAL=" not in text:
        problems.append("no INTERVAL")
    if re.search(r"BYDAY=[^;]*[+-]?\d", text):
        problems.append("BYDAY with a numeric prefix")
    return rrule.rrulestr(text.replace(" RRULE:", "\nRRULE:")), problems


def check_schedules(data):
    problems = []
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    expect = {
        "ACGS backup every 6 hours": lambda runs: all(b - a == datetime.timedelta(hours=6) for a, b in zip(runs, runs[1:])),
        "ACGS weekly maintenance": lambda runs: all(r.strftime("%a %H:%M") == "Sun 02:00" for r in runs)
        and all(b - a == datetime.timedelta(days=7) for a, b in zip(runs, runs[1:])),
        "ACGS monthly DR drill": lambda runs: all(r.strftime("%a") == "Sun" and r.day <= 7 for r in runs)
        and len(set(r.month for r in runs)) == len(runs),
    }
    names = [t["name"] for t in data["acgs_awx_job_templates"]]
    for schedule in data["acgs_awx_schedules"]:
        rule, found = parse_rrule(schedule["rrule"])
        runs = [rule.after(start)]
        while len(runs) < 6:
            runs.append(rule.after(runs[-1]))
        runs = [r.astimezone(datetime.timezone.utc) for r in runs]
        if schedule["job_template"] not in names:
            found.append("no job template %s" % schedule["job_template"])
        if schedule["name"] not in expect or not expect[schedule["name"]](runs):
            found.append("runs at %s" % ", ".join(r.strftime("%a %Y-%m-%d %H:%M") for r in runs))
        problems.extend("%s: %s" % (schedule["name"], p) for p in found)
        print("%-55s %s" % (schedule["name"], ", ".join(r.strftime("%a %m-%d %H:%M") for r in runs[:3])))
    return problems


def check_credential_type():
    ctype = load("awx/credential_type.yml")
    secrets = load("roles/common/vars/main.yml")["acgs_secret_names"]
    fields = [f["id"] for f in ctype["inputs"]["fields"]]
    injected = ctype["injectors"]["extra_vars"]
    problems = []
    if sorted(injected) != sorted(secrets):
        problems.append("credential type injects %s, acgs.platform.common takes %s" % (sorted(injected), sorted(secrets)))
    for var, template in injected.items():
        if template != "{{ %s }}" % template.strip("{} ") or template.strip("{} ") not in fields:
            problems.append("%s: %s is not one of the inputs %s" % (var, template, fields))
    if not set(ctype["inputs"]["required"]) <= set(fields) or not all(f.get("secret") for f in ctype["inputs"]["fields"]):
        problems.append("credential type: required inputs must be declared, every input secret")
    return problems


def check_surveys(data):
    problems = []
    for template in data["acgs_awx_job_templates"]:
        for question in template.get("survey", []):
            where = "%s: %s" % (template["name"], question.get("variable"))
            missing = {"variable", "question_name", "type", "required"} - set(question)
            if missing:
                problems.append("%s lacks %s" % (where, sorted(missing)))
            if question.get("type") == "multiplechoice" and question.get("default") not in question.get("choices", []):
                problems.append("%s: default %r not among its choices" % (where, question.get("default")))
    return problems


def main():
    data = load("awx/job_templates.yml")
    problems = check_credential_type() + check_surveys(data) + check_schedules(data)
    with tempfile.TemporaryDirectory() as where:
        problems += check_arguments(data, os.path.join(where, "project"))
    for line in problems:
        print(line)
    if problems:
        sys.exit(1)
    print("awx_configure.yml: every awx.awx call's arguments accepted; schedules, credential type and surveys as AWX wants")


if __name__ == "__main__":
    main()

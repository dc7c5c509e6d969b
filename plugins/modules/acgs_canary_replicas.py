#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: acgs_canary_replicas
short_description: Replica-based canary on Kubernetes (no mesh), with analysis and automatic rollback
version_added: 0.1.0
description:
  - Argo Rollouts' basic canary without a service mesh or Flagger - a O(stable) and a O(canary) Deployment in
    O(namespace) whose pods one Service selects, so that the canary's share of traffic is the ratio of Ready pods.
  - The weights come from O(initial_weight), O(step_weight) and O(max_weight) as with M(acgs.platform.acgs_canary)
    (10, 35, 60, 85, 100 with the defaults). At weight V(w) the canary Deployment gets ceil(O(replicas) * w / 100) pods
    and the stable one the rest, never fewer than 1 before promotion; the canary is scaled up and Ready before the
    stable one is scaled down, each within O(timeout) seconds.
  - At each weight the module reads every Ready canary pod's C(/metrics) (the reference service's
    C(acgs_requests_total) and C(acgs_response_time_seconds), the C(/metrics) endpoint itself left out) through the
    API server's pod proxy, waits O(interval) seconds and reads them again; the window's requests, 5xx answers and
    mean response time are judged by the same rules as on HAProxy (O(success_threshold), O(max_response_time_ms),
    O(min_requests), O(max_extensions), O(failure_limit)). A counter that went down (a restarted pod) counts from 0.
    A pod whose metrics cannot be read makes the analysis undecided, which counts as failed.
  - After O(failure_limit) failed analyses at one weight, the stable Deployment goes back to O(replicas) Ready pods,
    then the canary to 0 (no pod left), and the module returns RV(outcome=rolled_back).
  - When the analysis at the last weight passes, the canary is promoted - O(promote_manifests) are server-side applied
    (field manager C(acgs-platform); the stable Deployment of the new release, its ConfigMap), the stable Deployment
    waited for at O(replicas) pods of its new revision, all Ready (a rolling update with maxUnavailable 0), then the
    canary scaled to 0 - and the module returns RV(outcome=promoted).
  - On SIGINT or SIGTERM (for example AWX's cancel) the module puts both Deployments back at the replicas they had when
    it started (stable first, Ready, then the canary), then fails with RV(outcome=rolled_back).
  - The canary Deployment must exist (at 0 replicas, for instance); its pods must not be selected by the stable
    Deployment's selector.
author:
  - ACGS Operations Team (@acgs)
requirements:
  - kubernetes (the Python client)
attributes:
  check_mode:
    support: full
    description: >-
      Reads both Deployments (a canary Deployment not created yet counts as 0 pods) and returns the planned steps
      with their replicas; changes nothing.
  diff_mode:
    support: none
    description: No diff is returned.
options:
  kubeconfig:
    description: Kubeconfig of the cluster; empty or omitted - the client's default (C($KUBECONFIG), C(~/.kube/config)).
    type: path
  namespace:
    description: Namespace of both Deployments.
    type: str
    required: true
  stable:
    description: Name of the Deployment that runs the current release.
    type: str
    required: true
  canary:
    description: Name of the Deployment that runs the new release.
    type: str
    required: true
  replicas:
    description: Pods the service has (the stable Deployment's before the canary, and after a rollback or promotion).
    type: int
    default: 2
  port:
    description: Container port the pods answer C(/metrics) on.
    type: int
    default: 8080
  initial_weight:
    description: First canary weight, percent.
    type: int
    default: 10
  step_weight:
    description: Weight added at each step, percent.
    type: int
    default: 25
  max_weight:
    description: Last canary weight, percent (the last step is clamped to it).
    type: int
    default: 100
  interval:
    description: Seconds of each analysis window.
    type: float
    default: 300
  success_threshold:
    description: Lowest share of successful canary requests, percent, for an analysis to pass.
    type: float
    default: 95
  max_response_time_ms:
    description: Highest mean canary response time over the window, in ms; omitted - not judged.
    type: float
  failure_limit:
    description: Failed analyses at one weight that roll the canary back.
    type: int
    default: 1
  min_requests:
    description: Fewest canary requests an analysis needs; with fewer the step is extended.
    type: int
    default: 10
  max_extensions:
    description: Times a step with too few requests is extended before it counts as a failed analysis.
    type: int
    default: 3
  timeout:
    description: Seconds each scale (or the promotion's rolling update) may take until its pods are Ready.
    type: float
    default: 180
  promote_manifests:
    description:
      - Manifests server-side applied at promotion, in order - the stable Deployment of the new release and what it
        reads (its ConfigMap). Omitted - the stable Deployment is only scaled back to O(replicas) (it already runs the
        new release, or the caller promotes it).
    type: list
    elements: dict
    default: []
  state:
    description:
      - V(promoted) runs the canary to promotion (or rollback); V(rolled_back) puts the stable Deployment at
        O(replicas) Ready pods and the canary at 0 now.
    type: str
    default: promoted
    choices: [promoted, rolled_back]
notes:
  - "A rollback after failed analyses is not a task failure (the module did its job); test RV(outcome), for example
    with C(failed_when: result.outcome not in ['promoted', 'rolled_back'])."
  - Run it in the foreground (not C(async)) so that a cancel reaches it and the replicas are put back.
seealso:
  - module: acgs.platform.acgs_canary
"""

EXAMPLES = r"""
- name: Canary of fv-service's new release, promoted or rolled back
  acgs.platform.acgs_canary_replicas:
    namespace: acgs-production
    stable: fv-service
    canary: fv-service-canary
    replicas: 2
    interval: 60
    promote_manifests: "{{ lookup('ansible.builtin.template', 'kubernetes/service.yml.j2') | from_yaml_all | list }}"
  register: canary

- name: The planned steps only
  acgs.platform.acgs_canary_replicas:
    namespace: acgs-production
    stable: fv-service
    canary: fv-service-canary
  check_mode: true

- name: Everything back on the stable Deployment now
  acgs.platform.acgs_canary_replicas:
    namespace: acgs-production
    stable: fv-service
    canary: fv-service-canary
    state: rolled_back
"""

RETURN = r"""
outcome:
  description:
    - V(promoted), V(rolled_back) (the stable Deployment at O(replicas), the canary at 0; or both put back where they
      were when interrupted) or V(failed) (an error; RV(final_replicas) says where they are).
    - In check mode, the outcome the run would aim for.
  returned: always
  type: str
  sample: rolled_back
reason:
  description: Why the run ended as it did.
  returned: always
  type: str
  sample: "analysis at weight 10 failed 1 time(s) (failure_limit 1): success rate 70.0% below success_threshold 95.0%"
steps:
  description: One entry per analysis, in order; in check mode the planned steps (decision V(planned)).
  returned: always
  type: list
  elements: dict
  contains:
    weight:
      description: The planned canary weight, percent.
      type: int
      sample: 10
    effective_weight:
      description: The canary's share of the Ready pods, percent (the traffic it gets through the Service).
      type: int
      sample: 50
    stable_replicas:
      description: Pods of the stable Deployment at this step.
      type: int
      sample: 1
    canary_replicas:
      description: Pods of the canary Deployment at this step.
      type: int
      sample: 1
    pods:
      description: The canary pods read (null when planned).
      type: list
      elements: str
    requests:
      description: Requests the canary pods answered in the window (not counting C(/metrics)); null when planned or undecided.
      type: int
      sample: 120
    errors:
      description: Of them, the 5xx answers.
      type: int
      sample: 36
    success_rate:
      description: Share of successful canary requests in percent (null without requests).
      type: float
      sample: 70.0
    response_time_ms:
      description: Mean response time of those requests in the window, ms (null without requests).
      type: int
      sample: 2
    decision:
      description: V(pass), V(fail), V(insufficient) (too few requests) or V(planned) (check mode).
      type: str
      sample: fail
    action:
      description: What followed - V(advance), V(retry), V(extend), V(rollback), or V(planned).
      type: str
      sample: rollback
    reason:
      description: The verdict in words.
      type: str
      sample: "success rate 70.0% below success_threshold 95.0% (36 errors in 120 requests)"
    timestamp:
      description: End of the analysis window, ISO 8601 UTC (null when planned).
      type: str
      sample: "2026-11-28T19:20:05.123Z"
initial_replicas:
  description: The Deployments' replicas when the run started.
  returned: always
  type: dict
  sample: {stable: 2, canary: 0}
final_replicas:
  description: The Deployments' replicas when the run ended (planned ones in check mode).
  returned: always
  type: dict
  sample: {stable: 2, canary: 0}
finished_at:
  description: When the run ended, ISO 8601 UTC.
  returned: always
  type: str
  sample: "2026-11-28T19:20:09.456Z"
"""

import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.acgs.platform.plugins.module_utils import _canary, _canary_replicas
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.plugins.module_utils._kubernetes_client import (
    Cluster, HAS_KUBERNETES, KUBERNETES_IMPORT_ERROR, Missing)


def iso_now():
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % int((now % 1) * 1000)


class Rollout(object):
    def __init__(self, params, cluster):
        self.params = params
        self.cluster = cluster
        self.names = {"stable": params["stable"], "canary": params["canary"]}
        self.steps = []
        self.changed = False
        self.initial = None
        self.final = None

    def replicas(self, canary_may_be_missing=False):
        """Each Deployment's replicas. In check mode the canary Deployment may not exist yet (the apply
        before this module did not create it): 0 pods."""
        found = {}
        for role in ("stable", "canary"):
            try:
                found[role] = (self.cluster.deployment(self.names[role]).get("spec") or {}).get("replicas") or 0
            except Missing:
                if role != "canary" or not canary_may_be_missing:
                    raise
                found[role] = 0
        return found

    def set_replicas(self, stable, canary):
        """The Deployment that grows first, Ready; then the other one (the Service never lacks pods)."""
        current = self.replicas()
        wanted = {"stable": stable, "canary": canary}
        order = sorted(("stable", "canary"), key=lambda role: wanted[role] - current[role], reverse=True)
        for role in order:
            if self.cluster.scale(self.names[role], wanted[role]):
                self.changed = True
            self.cluster.wait_ready(self.names[role], wanted[role], self.params["timeout"])
        self.final = dict(wanted)

    def rollback(self):
        self.set_replicas(self.params["replicas"], 0)

    def restore(self):
        self.set_replicas(self.initial["stable"], self.initial["canary"])

    def promote(self):
        for manifest in self.params["promote_manifests"]:
            self.cluster.apply(manifest)
            self.changed = True
        if self.cluster.scale(self.names["stable"], self.params["replicas"]):
            self.changed = True
        self.cluster.wait_ready(self.names["stable"], self.params["replicas"], self.params["timeout"])
        if self.cluster.scale(self.names["canary"], 0):
            self.changed = True
        self.cluster.wait_ready(self.names["canary"], 0, self.params["timeout"])
        self.final = {"stable": self.params["replicas"], "canary": 0}

    def read(self, pods):
        """({pod: counters}, problem) of the canary pods; problem: the pods that could not be read, or None."""
        readings, problems = {}, []
        for pod in pods:
            try:
                readings[pod] = _canary_replicas.parse_metrics(self.cluster.metrics(pod, self.params["port"]))
            except OperatorError as err:
                problems.append(to_native(err))
        return readings, "; ".join(problems) or None

    def measure(self):
        """(pods, metrics, problem) of one analysis window, waited for."""
        pods = self.cluster.pods(self.names["canary"])
        if not pods:
            return pods, None, "no Ready canary pod"
        before, problem = self.read(pods)
        time.sleep(self.params["interval"])
        after_pods = self.cluster.pods(self.names["canary"])
        after, again = self.read(after_pods)
        if problem or again:
            return after_pods, None, problem or again
        return after_pods, _canary_replicas.window_metrics(before, after), None

    def analyse(self, step):
        """Analyse one step until a verdict ends it: (ADVANCE or ROLLBACK, reason)."""
        failures = extensions = 0
        while True:
            pods, metrics, problem = self.measure()
            if problem:
                verdict, why = _canary.undecided(problem)
                metrics = {"requests": None, "errors": None, "success_rate": None, "response_time_ms": None}
            else:
                verdict, why = _canary.judge(metrics, self.params["success_threshold"],
                                             self.params["max_response_time_ms"], self.params["min_requests"])
            action, failures, extensions = _canary.next_action(
                verdict, failures, extensions, self.params["failure_limit"], self.params["max_extensions"])
            self.steps.append(dict(metrics, weight=step["weight"], effective_weight=step["effective_weight"],
                                   stable_replicas=step["stable"], canary_replicas=step["canary"], pods=pods,
                                   decision=verdict, action=action, reason=why, timestamp=iso_now()))
            if action == _canary.ROLLBACK:
                return action, "analysis at weight %d failed %d time(s) (failure_limit %d): %s" % (
                    step["weight"], failures, self.params["failure_limit"], why)
            if action == _canary.ADVANCE:
                return action, why

    def run(self, plan):
        for step in plan:
            self.set_replicas(step["stable"], step["canary"])
            action, why = self.analyse(step)
            if action == _canary.ROLLBACK:
                self.rollback()
                return "rolled_back", why
        self.promote()
        return "promoted", "every analysis passed up to weight %d; promoted" % plan[-1]["weight"]


def result_of(rollout, outcome, reason):
    return dict(
        changed=rollout.changed if rollout else False,
        outcome=outcome,
        reason=reason,
        steps=rollout.steps if rollout else [],
        initial_replicas=(rollout.initial if rollout else None) or {},
        final_replicas=(rollout.final if rollout else None) or {},
        finished_at=iso_now(),
    )


def planned(rollout, plan):
    params = rollout.params
    if params["state"] == "rolled_back":
        rollout.final = {"stable": params["replicas"], "canary": 0}
    else:
        rollout.steps = [dict(weight=s["weight"], effective_weight=s["effective_weight"], stable_replicas=s["stable"],
                              canary_replicas=s["canary"], pods=None, requests=None, errors=None, success_rate=None,
                              response_time_ms=None, decision="planned", action="planned", reason="check mode",
                              timestamp=None) for s in plan]
        rollout.final = {"stable": params["replicas"], "canary": 0}
    rollout.changed = bool(rollout.steps) or rollout.final != rollout.initial
    return params["state"], "check mode: planned steps, nothing changed"


def main():
    module = AnsibleModule(
        argument_spec=dict(
            kubeconfig=dict(type="path"),
            namespace=dict(type="str", required=True),
            stable=dict(type="str", required=True),
            canary=dict(type="str", required=True),
            replicas=dict(type="int", default=2),
            port=dict(type="int", default=8080),
            initial_weight=dict(type="int", default=10),
            step_weight=dict(type="int", default=25),
            max_weight=dict(type="int", default=100),
            interval=dict(type="float", default=300),
            success_threshold=dict(type="float", default=95),
            max_response_time_ms=dict(type="float"),
            failure_limit=dict(type="int", default=1),
            min_requests=dict(type="int", default=10),
            max_extensions=dict(type="int", default=3),
            timeout=dict(type="float", default=180),
            promote_manifests=dict(type="list", elements="dict", default=[]),
            state=dict(type="str", default="promoted", choices=["promoted", "rolled_back"]),
        ),
        supports_check_mode=True,
    )
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=to_native(KUBERNETES_IMPORT_ERROR),
                         **result_of(None, "failed", "the kubernetes client is missing"))
    rollout = None
    try:
        _canary_replicas.validate(module.params)
        rollout = Rollout(module.params, Cluster(module.params["kubeconfig"], module.params["namespace"]))
        rollout.initial = rollout.replicas(canary_may_be_missing=module.check_mode)
        rollout.final = dict(rollout.initial)
    except OperatorError as err:
        module.fail_json(msg=to_native(err), **result_of(rollout, "failed", to_native(err)))
    params = module.params
    plan = _canary_replicas.plan_steps(params["initial_weight"], params["step_weight"], params["max_weight"], params["replicas"])

    if module.check_mode:
        outcome, reason = planned(rollout, plan)
        module.exit_json(msg=reason, **result_of(rollout, outcome, reason))

    outcome, reason, failed = _canary.drive(
        rollout, params["state"], plan,
        on_request="rolled back on request: %d pods of %s, none of %s" % (params["replicas"], params["stable"], params["canary"]),
        put_back="replicas put back as before the run (%s %d, %s %d)" % (
            params["stable"], rollout.initial["stable"], params["canary"], rollout.initial["canary"]),
        what="replicas")
    try:
        rollout.final = rollout.replicas()
    except OperatorError:
        pass
    result = result_of(rollout, outcome, reason)
    if failed:
        module.fail_json(msg=reason, **result)
    module.exit_json(msg=reason, **result)


if __name__ == "__main__":
    main()

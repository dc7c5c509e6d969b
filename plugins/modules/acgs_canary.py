#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: acgs_canary
short_description: Canary rollout between two HAProxy servers, with analysis and automatic rollback
version_added: 0.1.0
description:
  - Shifts traffic from the O(stable) server of an HAProxy O(backend) to its O(canary) server in steps,
    through HAProxy's runtime API on the admin O(socket) (C(set server ... weight), C(set server ... state)),
    with no reload. A canary weight V(w) means canary server weight V(w) and stable server weight V(100-w).
  - The weights go O(initial_weight), then +O(step_weight) at a time; the last step is clamped to O(max_weight),
    never above (10, 35, 60, 85, 100 with the defaults).
  - At each weight the module waits O(interval) seconds (a real wait, the analysis window) and analyses the
    canary server's requests over that window - with O(metrics_source=haproxy) its counters from C(show stat)
    (responses by class; C(hrsp_5xx) and connection and response errors are failures) and C(rtime); with
    O(metrics_source=prometheus) the answers of Prometheus at O(prometheus_url) to three PromQL queries
    (O(prometheus_queries)) evaluated at the end of the window. An analysis fails when the success rate is below
    O(success_threshold) or the response time is above O(max_response_time_ms); with fewer than O(min_requests)
    requests it is not a success - the step is extended, at most O(max_extensions) times, after which it
    counts as a failed analysis.
  - With O(metrics_source=prometheus), an analysis that cannot decide - Prometheus does not answer within
    O(prometheus_timeout), refuses a query, or a query has no data (no series, or fewer than two samples in the
    window) - counts as a failed analysis, as Flagger's failed checks; the step's RV(steps[].reason) says why.
    Before the rollout moves any traffic the module checks that Prometheus is online (it evaluates vector(1),
    as Flagger) and accepts the three queries; if not, it fails with RV(outcome=failed) and changes nothing.
  - After O(failure_limit) failed analyses at one weight the module rolls back at once - canary weight 0,
    stable weight 100, canary server set to C(drain) - and returns RV(outcome=rolled_back).
  - When the analysis at the last weight passes, the canary is promoted - canary weight 100 (C(ready)),
    stable weight 0 (C(drain)).
  - On SIGINT or SIGTERM (for example AWX's cancel) the module puts back the weights and states the two
    servers had when it started, then fails with RV(outcome=rolled_back).
  - Runs as one long task (use C(async) with a bound above the expected duration), or one step at a time with
    O(state=paused).
author:
  - ACGS Operations Team (@acgs)
attributes:
  check_mode:
    support: full
    description: Reads the servers' current weights and returns the planned steps; changes nothing.
  diff_mode:
    support: none
    description: No diff is returned.
options:
  backend:
    description: Name of the HAProxy backend that holds both servers.
    type: str
    required: true
  stable:
    description: Name of the server that carries the current release.
    type: str
    required: true
  canary:
    description: Name of the server that carries the new release.
    type: str
    required: true
  socket:
    description: HAProxy's runtime API socket; needs C(level admin).
    type: path
    default: /run/haproxy/admin.sock
  state:
    description:
      - V(promoted) runs the rollout and its analyses to the end (promotion or rollback). When the canary already
        carries traffic (a weight above 0, for example after V(paused) steps), it continues from that weight.
      - V(rolled_back) puts all traffic on the stable server now (canary weight 0 and C(drain), stable 100).
      - V(paused) advances one step and returns - from weight 0 it starts the rollout at O(initial_weight);
        from a weight above 0 it analyses that weight and, when the analysis passes, sets the next one
        (or promotes after the last).
    type: str
    choices: [promoted, rolled_back, paused]
    default: promoted
  initial_weight:
    description: Canary weight (percent of the traffic) of the first step.
    type: int
    default: 10
  step_weight:
    description: Weight added at each step; must be more than 0.
    type: int
    default: 25
  max_weight:
    description: Canary weight of the last step before promotion (at most 100); the last step is clamped to it.
    type: int
    default: 100
  interval:
    description: Seconds of each analysis window, waited for real between the step and its analysis.
    type: float
    default: 300
  success_threshold:
    description: Minimum share of successful canary requests in an analysis window, in percent (0-100).
    type: float
    default: 95
  max_response_time_ms:
    description:
      - Maximum canary response time in ms - HAProxy's C(rtime) (average of the last 1024 requests), or with
        O(metrics_source=prometheus) the answer of the V(response_time) query; unset for no limit.
    type: float
  failure_limit:
    description: Failed analyses at one weight before the rollback (Flagger's C(threshold)).
    type: int
    default: 1
  min_requests:
    description: Minimum canary requests in an analysis window; fewer is not a success (the step is extended).
    type: int
    default: 10
  max_extensions:
    description: How many times a step with fewer than O(min_requests) requests is extended before it counts as a failed analysis.
    type: int
    default: 3
  metrics_source:
    description:
      - Where the analysis reads its metrics.
      - V(haproxy) - the canary server's counters from C(show stat), read before and after each window.
      - V(prometheus) - the answers of Prometheus at O(prometheus_url) to O(prometheus_queries), asked at the end
        of each window; by default the same per-server counters as scraped from HAProxy's built-in exporter.
    type: str
    choices: [haproxy, prometheus]
    default: haproxy
  prometheus_url:
    description:
      - Base URL of Prometheus's HTTP API, for O(metrics_source=prometheus) (ignored otherwise).
      - Default C(http://127.0.0.1:9090), the Prometheus port of the collection's service catalog; the release role
        passes C(acgs_canary_prometheus_url), roles/common's C(acgs_prometheus_url).
    type: str
  prometheus_queries:
    description:
      - PromQL templates that replace the default ones, by name, for O(metrics_source=prometheus) (as Flagger's
        MetricTemplate); each must answer one number (a vector of one series, or a scalar).
      - V(requests) - the canary's requests in the window; V(errors) - its failed ones (5xx, connection and
        response errors); V(response_time) - its response time in B(seconds), a p95 or an average.
      - "Placeholders (C($$) for a literal C($)): C(${backend}) O(backend), C(${server}) O(canary),
        C(${stable}) O(stable), C(${service}) O(service), C(${interval}) O(interval) as a PromQL duration
        (C(30s))."
      - "The defaults read the canary server's series of HAProxy's built-in exporter (labels C(proxy) and
        C(server)), the same counters as O(metrics_source=haproxy) - V(requests) is the C(sum) of the C(increase)
        over the window of C(haproxy_server_http_responses_total), C(haproxy_server_connection_errors_total) and
        C(haproxy_server_response_errors_total); V(errors) the same with only the C(code=\"5xx\") responses;
        V(response_time) the C(max) of C(haproxy_server_response_time_average_seconds) (HAProxy's C(rtime)).
        RV(queries) returns them filled in."
      - An C(increase) over the window needs two samples in it - keep O(interval) at least twice Prometheus's
        scrape interval (15 s in roles/prometheus), else queries have no data and analyses cannot decide.
    type: dict
    default: {}
  prometheus_timeout:
    description: Seconds each Prometheus query may take before the analysis counts as one that cannot decide.
    type: float
    default: 10
  service:
    description:
      - Name of the service, for the C(${service}) placeholder of O(prometheus_queries) (for example to select the
        services' own C(acgs_requests_total) series by their C(service) label).
      - Default O(backend) without a leading C(be_).
    type: str
  webhooks:
    description:
      - Gates, as Flagger's webhooks - a GET of O(webhooks[].url) must answer 2xx, else the rollout does not start
        (V(pre-rollout)), does not set the next weight (V(confirm-rollout)) or does not promote (V(confirm-promotion)),
        and the module fails with RV(outcome=failed) leaving the weights as they are.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the gate, used in messages.
        type: str
        required: true
      type:
        description: When the gate is asked.
        type: str
        required: true
        choices: [pre-rollout, confirm-rollout, confirm-promotion]
      url:
        description: URL asked with GET; a 2xx answer opens the gate.
        type: str
        required: true
      timeout:
        description: Seconds to wait for the answer.
        type: float
        default: 10
notes:
  - "A rollback after failed analyses is not a task failure (the module did its job); test RV(outcome), for example
    with C(failed_when: result.outcome != 'promoted')."
  - The server weights are absolute HAProxy weights kept in 0..100, so the canary weight is its share of the traffic
    when both servers are up.
seealso:
  - name: Flagger canary analysis
    description: The model for the analysis, the threshold and the webhooks.
    link: https://docs.flagger.app/usage/how-it-works
"""

EXAMPLES = r"""
- name: Canary of auth-service's green slot, with the runbook's values (10 %, +25 %, 5 min, 95 %)
  acgs.platform.acgs_canary:
    backend: be_auth-service
    stable: auth-service-blue
    canary: auth-service-green
    max_response_time_ms: 500
    webhooks:
      - name: smoke
        type: pre-rollout
        url: http://127.0.0.1:18100/health
  async: 3600
  poll: 15
  register: canary
  failed_when: canary.outcome != 'promoted'

- name: The same canary analysed from Prometheus (HAProxy's exporter series, scraped every 15 s)
  acgs.platform.acgs_canary:
    backend: be_auth-service
    stable: auth-service-blue
    canary: auth-service-green
    metrics_source: prometheus
    prometheus_url: http://127.0.0.1:9090
    interval: 60
  register: canary
  failed_when: canary.outcome != 'promoted'

- name: Prometheus with the services' own series, p95 from their histogram (the release label tells the canary)
  acgs.platform.acgs_canary:
    backend: be_auth-service
    stable: auth-service-blue
    canary: auth-service-green
    metrics_source: prometheus
    prometheus_url: http://prometheus.example.internal:9090
    prometheus_timeout: 5
    max_response_time_ms: 500
    prometheus_queries:
      requests: sum(increase(acgs_requests_total{service="${service}",release="0.3.0"}[${interval}]))
      errors: sum(increase(acgs_errors_total{service="${service}",release="0.3.0"}[${interval}]))
      response_time: >-
        histogram_quantile(0.95, sum by (le) (rate(acgs_response_time_seconds_bucket{service="${service}",release="0.3.0"}[${interval}])))
  register: canary

- name: Plan only (check mode)
  acgs.platform.acgs_canary:
    backend: be_auth-service
    stable: auth-service-blue
    canary: auth-service-green
  check_mode: true
  register: plan

- name: One step at a time
  acgs.platform.acgs_canary:
    backend: be_auth-service
    stable: auth-service-blue
    canary: auth-service-green
    state: paused
    interval: 60

- name: All traffic back on the stable server now
  acgs.platform.acgs_canary:
    backend: be_auth-service
    stable: auth-service-blue
    canary: auth-service-green
    state: rolled_back
"""

RETURN = r"""
outcome:
  description:
    - V(promoted) (all traffic on the canary), V(rolled_back) (all traffic on stable, or back where it was when
      interrupted), V(paused) (one step done, the canary carries a share) or V(failed) (an error or a closed gate;
      the weights are as RV(final_weights) says).
    - In check mode, the outcome the run would aim for.
  returned: always
  type: str
  sample: promoted
reason:
  description: Why the run ended as it did.
  returned: always
  type: str
  sample: "analysis at weight 10 failed 1 time(s) (failure_limit 1): success rate 71.2% below success_threshold 95.0%"
steps:
  description: One entry per analysis, in order; in check mode the planned steps (decision V(planned)).
  returned: always
  type: list
  elements: dict
  contains:
    weight:
      description: Canary weight during the analysis window.
      type: int
      sample: 10
    requests:
      description:
        - Canary requests in the window (null when planned, or when the analysis could not decide).
        - With O(metrics_source=prometheus), the V(requests) query's answer rounded to whole requests (C(increase)
          extrapolates to the window).
      type: int
      sample: 412
    errors:
      description: Canary 5xx answers and connection or response errors in the window (the V(errors) query's answer with O(metrics_source=prometheus)).
      type: int
      sample: 0
    success_rate:
      description: Share of successful canary requests in percent (null without requests).
      type: float
      sample: 100.0
    response_time_ms:
      description:
        - Canary response time at the end of the window, HAProxy's C(rtime) (average of the last 1024 requests);
          with O(metrics_source=prometheus), the answer of the V(response_time) query in ms (by default the same
          C(rtime)).
        - Null without requests, or when the analysis could not decide.
      type: int
      sample: 2
    decision:
      description:
        - V(pass), V(fail), V(insufficient) (too few requests) or V(planned) (check mode).
        - An analysis that cannot decide (Prometheus unreachable, no data) is V(fail), its reason starts with
          C(cannot decide).
      type: str
      sample: pass
    action:
      description: What followed - V(advance), V(retry), V(extend), V(rollback), or V(planned).
      type: str
      sample: advance
    reason:
      description: The verdict in words.
      type: str
      sample: "success rate 100.0%, response time 2 ms"
    timestamp:
      description: End of the analysis window, ISO 8601 UTC (null when planned).
      type: str
      sample: "2026-11-27T17:20:05.123Z"
initial_weights:
  description: The servers' weights when the run started.
  returned: always
  type: dict
  sample: {stable: 100, canary: 0}
final_weights:
  description: The servers' weights when the run ended (planned ones in check mode).
  returned: always
  type: dict
  sample: {stable: 0, canary: 100}
queries:
  description: The PromQL the analyses ask, placeholders filled in (O(metrics_source=prometheus)); empty otherwise.
  returned: always
  type: dict
  sample:
    requests: sum(increase(haproxy_server_http_responses_total{proxy="be_auth-service",server="auth-service-green"}[5m])) + ...
    errors: sum(increase(haproxy_server_http_responses_total{proxy="be_auth-service",server="auth-service-green",code="5xx"}[5m])) + ...
    response_time: max(haproxy_server_response_time_average_seconds{proxy="be_auth-service",server="auth-service-green"})
finished_at:
  description: When the final weights were set, ISO 8601 UTC.
  returned: always
  type: str
  sample: "2026-11-27T17:20:05.456Z"
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.acgs.platform.plugins.module_utils import _canary, _prometheus
from ansible_collections.acgs.platform.plugins.module_utils.catalog import DEFAULT_HOST, INFRASTRUCTURE_PORTS
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.plugins.module_utils._haproxy_runtime import HaproxyRuntime
from ansible_collections.acgs.platform.plugins.module_utils._http import http_get


def iso_now():
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % int((now % 1) * 1000)


class Rollout(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.runtime = HaproxyRuntime(self.params["socket"])
        self.backend = self.params["backend"]
        self.names = {"stable": self.params["stable"], "canary": self.params["canary"]}
        self.steps = []
        self.changed = False
        self.initial = None
        self.initial_states = None
        self.final = None
        self.queries = {}
        if self.params["metrics_source"] == "prometheus":
            self.queries = _canary.render_queries(self.params["prometheus_queries"], _canary.query_variables(self.params))

    # -- HAProxy ---------------------------------------------------------------
    def rows(self):
        stats = self.runtime.show_stat()
        if not any(px == self.backend for px, _sv in stats):
            raise OperatorError("backend: HAProxy has no backend %r" % self.backend)
        rows = {}
        for role in ("stable", "canary"):
            row = stats.get((self.backend, self.names[role]))
            if row is None:
                raise OperatorError("%s: backend %r has no server %r" % (role, self.backend, self.names[role]))
            rows[role] = row
        return rows

    def weights(self):
        return dict((role, self.runtime.get_weight(self.backend, self.names[role])[0]) for role in ("stable", "canary"))

    def states(self):
        self.rows()  # fails naming a server the backend lacks
        states = self.runtime.admin_states()
        return dict((role, states[(self.backend, self.names[role])]) for role in ("stable", "canary"))

    def apply(self, weights, states=None):
        """Set the weights (and states) that differ; the order keeps a server with weight ready first."""
        current_states = self.states()
        current = self.weights()
        states = states or {}
        for role in ("stable", "canary"):
            if states.get(role) == "ready" and current_states[role] != "ready":
                self.runtime.set_state(self.backend, self.names[role], "ready")
                self.changed = True
        # raise the weight that grows first, so the sum never drops to 0
        order = sorted(("stable", "canary"), key=lambda role: weights[role] - current[role], reverse=True)
        for role in order:
            if current[role] != weights[role]:
                self.runtime.set_weight(self.backend, self.names[role], weights[role])
                self.changed = True
        for role in ("stable", "canary"):
            wanted = states.get(role)
            if wanted and wanted != "ready" and current_states[role] != wanted:
                self.runtime.set_state(self.backend, self.names[role], wanted)
                self.changed = True
        self.final = dict(weights)

    def set_canary_weight(self, weight):
        self.apply(_canary.split(weight), {"stable": "ready", "canary": "ready"})

    def rollback(self):
        self.apply(_canary.split(0), {"stable": "ready", "canary": "drain"})

    def promote(self):
        self.apply(_canary.split(_canary.WEIGHT_MAX), {"stable": "drain", "canary": "ready"})

    def restore(self):
        self.apply(self.initial, self.initial_states)

    # -- gates -----------------------------------------------------------------
    def gate(self, kind):
        """None when every webhook of ``kind`` answered 2xx, else the reason."""
        for hook in self.params["webhooks"]:
            if hook["type"] != kind:
                continue
            answer = http_get(hook["url"], {"timeout": hook["timeout"], "validate_certs": True})
            if answer.status is None or not 200 <= answer.status < 300:
                what = answer.error if answer.status is None else "HTTP %d" % answer.status
                return "%s webhook %r (%s) did not answer 2xx: %s" % (kind, hook["name"], hook["url"], what)
        return None

    # -- analysis --------------------------------------------------------------
    def preflight(self):
        """None when the metrics can be read, else why not: Prometheus offline or refusing a query."""
        if not self.queries:
            return None
        problem = _prometheus.preflight(self.params["prometheus_url"], self.queries, self.params["prometheus_timeout"])
        if problem is None:
            return None
        name, why = problem
        return "%s: %s" % ("prometheus_queries.%s" % name if name else "prometheus_url", why)

    def measure(self):
        """(metrics, problem) of one analysis window, waited for; problem: why it cannot decide, or None."""
        if not self.queries:
            before = self.rows()["canary"]
            time.sleep(self.params["interval"])
            return _canary.window_metrics(before, self.rows()["canary"]), None
        time.sleep(self.params["interval"])
        at = time.time()
        answers = dict((name, _prometheus.instant_query(self.params["prometheus_url"], expr, at, self.params["prometheus_timeout"]))
                       for name, expr in self.queries.items())
        return _canary.prometheus_metrics(answers, self.params["max_response_time_ms"] is not None)

    def analyse(self, weight):
        """Analyse ``weight`` until a verdict ends it: ADVANCE or ROLLBACK, and the reason."""
        failures = extensions = 0
        while True:
            metrics, problem = self.measure()
            if problem:
                verdict, why = _canary.undecided(problem)
            else:
                verdict, why = _canary.judge(metrics, self.params["success_threshold"],
                                             self.params["max_response_time_ms"], self.params["min_requests"])
            action, failures, extensions = _canary.next_action(
                verdict, failures, extensions, self.params["failure_limit"], self.params["max_extensions"])
            step = dict(metrics, weight=weight, decision=verdict, action=action, reason=why, timestamp=iso_now())
            self.steps.append(step)
            if action == _canary.ROLLBACK:
                return action, "analysis at weight %d failed %d time(s) (failure_limit %d): %s" % (
                    weight, failures, self.params["failure_limit"], why)
            if action == _canary.ADVANCE:
                return action, why

    def run(self, plan):
        """(outcome, reason) of the rollout; state promoted or paused."""
        one_step = self.params["state"] == "paused"
        weight = self.initial["canary"]
        canary_live = weight > 0 and self.initial_states["canary"] == "ready"
        if canary_live and self.initial["stable"] == 0 and self.initial_states["stable"] != "ready":
            return "promoted", "already promoted: canary weight %d, stable weight 0 (%s)" % (weight, self.initial_states["stable"])
        unreadable = self.preflight()
        if unreadable:
            return "failed", "%s; no traffic moved" % unreadable
        if not canary_live:
            for kind in ("pre-rollout", "confirm-rollout"):
                closed = self.gate(kind)
                if closed:
                    return "failed", "rollout not started: %s" % closed
            weight = plan[0]
            self.set_canary_weight(weight)
            if one_step:
                return "paused", "rollout started at canary weight %d" % weight
        while True:
            action, why = self.analyse(weight)
            if action == _canary.ROLLBACK:
                self.rollback()
                return "rolled_back", why
            following = _canary.next_weight(plan, weight)
            if following is None:
                closed = self.gate("confirm-promotion")
                if closed:
                    return "failed", "not promoted: %s" % closed
                self.promote()
                return "promoted", "every analysis passed up to weight %d; promoted" % weight
            closed = self.gate("confirm-rollout")
            if closed:
                return "failed", "not advanced from weight %d: %s" % (weight, closed)
            weight = following
            self.set_canary_weight(weight)
            if one_step:
                return "paused", "analysis passed (%s); canary weight now %d" % (why, weight)


def result_of(rollout, outcome, reason):
    return dict(
        changed=rollout.changed if rollout else False,
        outcome=outcome,
        reason=reason,
        steps=rollout.steps if rollout else [],
        initial_weights=(rollout.initial if rollout else None) or {},
        final_weights=(rollout.final if rollout else None) or {},
        queries=rollout.queries if rollout else {},
        finished_at=iso_now(),
    )


def planned(rollout, plan):
    params = rollout.params
    if params["state"] == "rolled_back":
        final = _canary.split(0)
        steps = []
        outcome = "rolled_back"
    else:
        current = rollout.initial["canary"]
        live = current > 0 and rollout.initial_states["canary"] == "ready"
        weights = ([current] + [w for w in plan if w > current]) if live else list(plan)
        outcome = params["state"]
        if outcome == "paused":
            # paused from 0 starts the rollout; from a live weight it analyses it and sets the next
            final = _canary.split(_canary.next_weight(plan, current) or _canary.WEIGHT_MAX) if live \
                else _canary.split(plan[0])
            weights = weights[:1]
        else:
            final = _canary.split(_canary.WEIGHT_MAX)
        steps = [dict(weight=w, requests=None, errors=None, success_rate=None, response_time_ms=None,
                      decision="planned", action="planned", reason="check mode", timestamp=None) for w in weights]
    rollout.steps = steps
    rollout.final = final
    rollout.changed = final != rollout.initial
    return outcome, "check mode: planned steps, nothing changed"


def main():
    module = AnsibleModule(
        argument_spec=dict(
            backend=dict(type="str", required=True),
            stable=dict(type="str", required=True),
            canary=dict(type="str", required=True),
            socket=dict(type="path", default="/run/haproxy/admin.sock"),
            state=dict(type="str", default="promoted", choices=["promoted", "rolled_back", "paused"]),
            initial_weight=dict(type="int", default=10),
            step_weight=dict(type="int", default=25),
            max_weight=dict(type="int", default=100),
            interval=dict(type="float", default=300),
            success_threshold=dict(type="float", default=95),
            max_response_time_ms=dict(type="float"),
            failure_limit=dict(type="int", default=1),
            min_requests=dict(type="int", default=10),
            max_extensions=dict(type="int", default=3),
            metrics_source=dict(type="str", default="haproxy", choices=["haproxy", "prometheus"]),
            prometheus_url=dict(type="str"),
            prometheus_queries=dict(type="dict", default={}),
            prometheus_timeout=dict(type="float", default=10),
            service=dict(type="str"),
            webhooks=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                type=dict(type="str", required=True, choices=["pre-rollout", "confirm-rollout", "confirm-promotion"]),
                url=dict(type="str", required=True),
                timeout=dict(type="float", default=10),
            )),
        ),
        supports_check_mode=True,
    )
    if not module.params["prometheus_url"]:
        module.params["prometheus_url"] = "http://%s:%d" % (DEFAULT_HOST, INFRASTRUCTURE_PORTS["prometheus"])
    rollout = None
    try:
        _canary.validate(module.params)
        rollout = Rollout(module)
        rollout.runtime.check_socket()
        rollout.rows()
        rollout.initial = rollout.weights()
        rollout.initial_states = rollout.states()
        rollout.final = dict(rollout.initial)
    except OperatorError as err:
        module.fail_json(msg=to_native(err), **result_of(rollout, "failed", to_native(err)))
    plan = _canary.plan_weights(module.params["initial_weight"], module.params["step_weight"], module.params["max_weight"])

    if module.check_mode:
        outcome, reason = planned(rollout, plan)
        module.exit_json(msg=reason, **result_of(rollout, outcome, reason))

    outcome, reason, failed = _canary.drive(
        rollout, module.params["state"], plan,
        on_request="rolled back on request: all traffic on %s" % rollout.names["stable"],
        put_back="weights and states put back as before the run (stable %d, canary %d)" % (
            rollout.initial["stable"], rollout.initial["canary"]),
        what="weights")
    try:
        rollout.final = rollout.weights()
    except OperatorError:
        pass
    result = result_of(rollout, outcome, reason)
    if failed:
        module.fail_json(msg=reason, **result)
    module.exit_json(msg=reason, **result)


if __name__ == "__main__":
    main()

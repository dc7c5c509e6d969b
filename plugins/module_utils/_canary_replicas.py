# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the replica arithmetic and metrics of a replica-based canary (pure functions).

A canary without a mesh (Argo Rollouts' basic canary): a stable and a canary Deployment
behind one Service, the canary's share of traffic the ratio of their Ready pods. Here:
the replicas of each weight of the plan (``_canary.plan_weights``), the parameters'
checks, the reference service's ``/metrics`` text reduced to requests, 5xx answers and
response time, and the window of several pods between two readings (a pod that restarted
counts from 0 again). The verdict and the next action are ``_canary``'s, not copied here.
Nothing here talks to Kubernetes or sleeps. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

from ansible_collections.acgs.platform.plugins.module_utils import _canary
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError

# The reference service's own endpoint for metrics: reading it is not the canary's traffic.
METRICS_ENDPOINT = "/metrics"
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+([-+0-9.eEnaNIf]+)(?:\s+\d+)?\s*$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def replicas_at(weight, total):
    """(stable, canary) replicas for a canary weight in percent of ``total`` pods.

    canary = ceil(total * weight / 100) (a weight above 0 gets at least one pod), stable the
    rest but never below 1 before promotion, so the stable release keeps serving.
    """
    canary = int(math.ceil(total * weight / 100.0)) if weight > 0 else 0
    canary = min(canary, total)
    return max(1, total - canary), canary


def effective_weight(stable, canary):
    """The canary's share of traffic in percent: its Ready pods among all Ready pods (0 without pods)."""
    pods = stable + canary
    return int(round(100.0 * canary / pods)) if pods else 0


def plan_steps(initial_weight, step_weight, max_weight, total):
    """The steps: [{weight, stable, canary, effective_weight}] for ``_canary.plan_weights``."""
    steps = []
    for weight in _canary.plan_weights(initial_weight, step_weight, max_weight):
        stable, canary = replicas_at(weight, total)
        steps.append({"weight": weight, "stable": stable, "canary": canary,
                      "effective_weight": effective_weight(stable, canary)})
    return steps


def validate(params):
    """Raises OperatorError naming the first bad parameter (the weights and analysis via ``_canary``)."""
    for name in ("namespace", "stable", "canary"):
        value = params.get(name)
        if not value or len(value) > 63 or not _NAME.match(value):
            raise OperatorError("%s: must be a Kubernetes name (lower case letters, digits and '-', at most 63), got %r"
                                % (name, value))
    if params["stable"] == params["canary"]:
        raise OperatorError("canary: must differ from stable (both are %r)" % params["stable"])
    if params["replicas"] < 1:
        raise OperatorError("replicas: must be at least 1, got %s" % params["replicas"])
    if not 0 < params["port"] < 65536:
        raise OperatorError("port: must be a TCP port 1..65535, got %s" % params["port"])
    if not params["timeout"] > 0:
        raise OperatorError("timeout: must be more than 0 seconds, got %s" % params["timeout"])
    for index, manifest in enumerate(params.get("promote_manifests") or []):
        if not isinstance(manifest, dict) or not manifest.get("apiVersion") or not manifest.get("kind") \
                or not (manifest.get("metadata") or {}).get("name"):
            raise OperatorError("promote_manifests[%d]: must be a manifest with apiVersion, kind and metadata.name" % index)
    checked = dict(params, backend="deployment", metrics_source="haproxy", webhooks=[])
    _canary.validate(checked)


def parse_metrics(text):
    """{requests, errors, seconds, answered} from one ``/metrics`` text of the reference service.

    requests: ``acgs_requests_total`` of every endpoint but /metrics itself; errors: those of
    them with a 5xx status; seconds and answered: ``acgs_response_time_seconds_sum`` and
    ``_count`` of the same endpoints (the mean response time of a window). Raises
    OperatorError when the text has no ``acgs_requests_total`` family at all.
    """
    totals = {"requests": 0.0, "errors": 0.0, "seconds": 0.0, "answered": 0.0}
    seen = False
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line.strip())
        if not match:
            continue
        name, labels, value = match.group(1), dict(_LABEL.findall(match.group(2) or "")), match.group(3)
        if name == "acgs_requests_total" or (name == "acgs_response_time_seconds_sum" or name == "acgs_response_time_seconds_count"):
            if labels.get("endpoint") == METRICS_ENDPOINT:
                if name == "acgs_requests_total":
                    seen = True
                continue
            try:
                number = float(value)
            except ValueError:
                continue
            if name == "acgs_requests_total":
                seen = True
                totals["requests"] += number
                if labels.get("status", "").startswith("5"):
                    totals["errors"] += number
            elif name.endswith("_sum"):
                totals["seconds"] += number
            else:
                totals["answered"] += number
    if not seen and "# TYPE acgs_requests_total" not in text:
        raise OperatorError("the pod's /metrics has no acgs_requests_total (not the ACGS service contract)")
    return totals


def _delta(before, after):
    """A counter's growth; a decrease means the pod restarted and counts from 0: the new value."""
    return after if after < before else after - before


def window_metrics(before, after):
    """Metrics of the canary pods between two readings, as ``_canary.window_metrics`` gives them.

    ``before`` and ``after`` map a pod's name to ``parse_metrics`` of it; a pod only in
    ``after`` (new, or its first reading failed) counts from 0, a pod only in ``before``
    (gone) adds nothing. requests and errors are whole requests, success_rate in percent
    (None without requests), response_time_ms the mean over the window (None without).
    """
    sums = {"requests": 0.0, "errors": 0.0, "seconds": 0.0, "answered": 0.0}
    zero = dict.fromkeys(sums, 0.0)
    for pod, reading in after.items():
        start = before.get(pod, zero)
        restarted = reading["requests"] < start["requests"]
        for key in sums:
            sums[key] += reading[key] if restarted else _delta(start[key], reading[key])
    requests = int(round(sums["requests"]))
    errors = min(requests, int(round(sums["errors"])))
    rate = round(100.0 * (requests - errors) / requests, 2) if requests else None
    rtime = int(round(1000.0 * sums["seconds"] / sums["answered"])) if requests and sums["answered"] else None
    return {"requests": requests, "errors": errors, "success_rate": rate, "response_time_ms": rtime}


def deployment_pending(deployment, want):
    """None when a Deployment (a dict as the API answers it) has ``want`` pods, all updated and Ready; else why not."""
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    generation = (deployment.get("metadata") or {}).get("generation") or 0
    counts = dict((key, status.get(key) or 0) for key in ("replicas", "updatedReplicas", "readyReplicas"))
    if (status.get("observedGeneration") or 0) < generation or spec.get("replicas") != want \
            or counts["replicas"] != want or counts["readyReplicas"] != want or (want and counts["updatedReplicas"] != want):
        return "%d/%d ready, %d updated, %d pods" % (counts["readyReplicas"], want, counts["updatedReplicas"], counts["replicas"])
    return None

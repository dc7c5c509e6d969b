# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the few Kubernetes API calls of a replica-based canary, through the ``kubernetes`` client.

Read and scale a Deployment (its scale subresource), list its pods, read a pod's
``/metrics`` through the API server's pod proxy, server-side apply a manifest (field
manager ``acgs-platform``, as ``kubernetes.core.k8s`` in the services role) and wait,
bounded, for a Deployment to have its pods Ready. Every API failure becomes an
OperatorError naming the object. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.acgs.platform.plugins.module_utils import _canary_replicas
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError

try:
    from kubernetes import client as k8s_client, config as k8s_config
    from kubernetes.client.rest import ApiException
    from kubernetes.dynamic import DynamicClient
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as err:  # the module reports it with missing_required_lib
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = err

    class ApiException(Exception):
        pass

FIELD_MANAGER = "acgs-platform"
POLL = 1.0


def _why(err):
    if isinstance(err, ApiException):
        return "HTTP %s %s" % (err.status, (err.reason or "").strip())
    return "%s: %s" % (type(err).__name__, err)


class Missing(OperatorError):
    """The object asked for does not exist (the API's 404)."""


class Cluster(object):
    """One namespace of the cluster a kubeconfig names (empty: the client's default)."""

    def __init__(self, kubeconfig, namespace, sleep=time.sleep, clock=time.monotonic):
        self.namespace = namespace
        self.sleep = sleep
        self.clock = clock
        try:
            api = k8s_config.new_client_from_config(config_file=kubeconfig or None)
        except Exception as err:  # pylint: disable=broad-except
            # a missing or broken kubeconfig: the operator's words, not a traceback
            raise OperatorError("kubeconfig: cannot load %s: %s" % (kubeconfig or "the client default", err))
        self.api = api
        self.apps = k8s_client.AppsV1Api(api)
        self.core = k8s_client.CoreV1Api(api)
        self._dynamic = None

    def deployment(self, name):
        """The Deployment as a dict (the API's field names); OperatorError when it is missing."""
        try:
            found = self.apps.read_namespaced_deployment(name, self.namespace)
        except ApiException as err:
            if err.status == 404:
                raise Missing("Deployment %s/%s does not exist" % (self.namespace, name))
            raise OperatorError("Deployment %s/%s: %s" % (self.namespace, name, _why(err)))
        except Exception as err:  # pylint: disable=broad-except
            # urllib3's connection errors: the API server does not answer
            raise OperatorError("the API server does not answer (Deployment %s/%s): %s" % (self.namespace, name, _why(err)))
        return self.api.sanitize_for_serialization(found)

    def scale(self, name, replicas):
        """Set a Deployment's replicas (its scale subresource); True when they changed."""
        if (self.deployment(name).get("spec") or {}).get("replicas") == replicas:
            return False
        try:
            self.apps.patch_namespaced_deployment_scale(name, self.namespace, {"spec": {"replicas": replicas}})
        except Exception as err:  # pylint: disable=broad-except
            raise OperatorError("scaling Deployment %s/%s to %d: %s" % (self.namespace, name, replicas, _why(err)))
        return True

    def pods(self, deployment):
        """Names of the Running, Ready and not terminating pods the Deployment's selector picks."""
        return [pod["metadata"]["name"] for pod in self._pods(deployment) if _ready(pod)]

    def _pods(self, deployment):
        labels = (self.deployment(deployment)["spec"].get("selector") or {}).get("matchLabels") or {}
        selector = ",".join("%s=%s" % item for item in sorted(labels.items()))
        try:
            found = self.core.list_namespaced_pod(self.namespace, label_selector=selector)
        except Exception as err:  # pylint: disable=broad-except
            raise OperatorError("pods of Deployment %s/%s: %s" % (self.namespace, deployment, _why(err)))
        return self.api.sanitize_for_serialization(found).get("items") or []

    def metrics(self, pod, port):
        """A pod's /metrics text through the API server's pod proxy."""
        try:
            return self.core.connect_get_namespaced_pod_proxy_with_path("%s:%d" % (pod, port), self.namespace, "metrics")
        except Exception as err:  # pylint: disable=broad-except
            raise OperatorError("/metrics of pod %s/%s: %s" % (self.namespace, pod, _why(err)))

    def apply(self, manifest):
        """Server-side apply of one manifest (field manager acgs-platform, conflicts forced)."""
        try:
            if self._dynamic is None:
                self._dynamic = DynamicClient(self.api)
            resource = self._dynamic.resources.get(api_version=manifest["apiVersion"], kind=manifest["kind"])
            self._dynamic.server_side_apply(resource, body=manifest, name=manifest["metadata"]["name"],
                                            namespace=manifest["metadata"].get("namespace", self.namespace),
                                            field_manager=FIELD_MANAGER, force_conflicts=True)
        except Exception as err:  # pylint: disable=broad-except
            raise OperatorError("applying %s %s: %s" % (manifest.get("kind"), manifest["metadata"]["name"], _why(err)))

    def wait_ready(self, name, replicas, timeout):
        """Waits until the Deployment has ``replicas`` pods, all updated and Ready (0: no pod left at all).

        Returns the seconds it took; OperatorError naming the Deployment and its counts after ``timeout``.
        """
        started = self.clock()
        while True:
            pending = _canary_replicas.deployment_pending(self.deployment(name), replicas)
            if pending is None and replicas == 0 and self._pods(name):
                pending = "terminating pods left"
            if pending is None:
                return round(self.clock() - started, 1)
            if self.clock() - started > timeout:
                raise OperatorError("Deployment %s/%s not at %d Ready pods within %s s: %s"
                                    % (self.namespace, name, replicas, timeout, pending))
            self.sleep(POLL)


def _ready(pod):
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])

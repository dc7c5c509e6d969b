#!/usr/bin/env bash
# Benchmark: acgs_health against ansible.builtin.uri in a loop and the runbook's
# curl | jq loop, over 7 services' /health answering after 200 ms of injected
# latency (the probe tests' fault servers, tests/unit/plugins/test_support/
# fault_servers.py), plus acgs_health over 100 endpoints. All baselines
# run in the same invocation; prints medians and ratios, exits non-zero when a
# target is missed (acgs_health <= 0.35 x uri loop, <= 0.5 x curl loop,
# 100 endpoints <= 2 x 7). See benchmarks/health_probe.py for the details.
#
# Environment: BENCH_RUNS (5), BENCH_LATENCY_MS (200), BENCH_ENDPOINTS (100),
# PYTHON (the collection's .venv python, else python3).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$root/.venv/bin/python" ]; then PYTHON=$root/.venv/bin/python; else PYTHON=python3; fi
fi
python_bin=$(dirname "$PYTHON")
export PATH="$python_bin:$PATH"
for tool in curl jq ansible-playbook; do
  command -v "$tool" >/dev/null || { echo "health_probe.sh: $tool is not installed" >&2; exit 2; }
done
exec "$PYTHON" "$root/benchmarks/health_probe.py"

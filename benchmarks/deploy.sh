#!/usr/bin/env bash
# Benchmark: a blue-green deploy of the 7 services and its rollback against the naive procedure
# (restart every instance in place), each under the same loopback load through HAProxy
# (tests/unit/plugins/test_support/loadgen.py, 30 requests/s per service). Prints the
# failed requests of each, the deploy's checklist (gates) time apart, and the ratio of the
# deploy's traffic part (end of gates to all traffic on the new release) to the naive restart.
# Needs the live stack (make local) and root. See benchmarks/deploy.py.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$root/.venv/bin:$PATH" ANSIBLE_CONFIG="$root/ansible.cfg"
exec python3 "$root/benchmarks/deploy.py"

#!/usr/bin/env bash
# Benchmark: GET /health of the reference ACGS service under wrk, against a
# baseline measured in the same run: HAProxy (one thread) answering the same
# JSON body itself. Both listen on free loopback ports; this script starts and
# stops both.
#
# Prints requests/s and P99 latency of each and the ratios; exits non-zero if
# the service does fewer than MIN_RPS requests/s or its P99 is MAX_P99_MS or more.
#
# wrk runs one thread by default: on a 2-core machine that leaves one core to the
# single-threaded service (and to HAProxy, run with one thread), so the figures
# measure the server rather than the scheduler sharing a core between wrk and it.
#
# Environment: BENCH_DURATION (10s), BENCH_THREADS (1), BENCH_CONNECTIONS (16),
# MIN_RPS (1000), MAX_P99_MS (5), PYTHON (the collection's .venv python, else python3).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
service_py=$root/roles/services/files/acgs_service.py
duration=${BENCH_DURATION:-10s}
threads=${BENCH_THREADS:-1}
connections=${BENCH_CONNECTIONS:-16}
min_rps=${MIN_RPS:-1000}
max_p99_ms=${MAX_P99_MS:-5}
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$root/.venv/bin/python" ]; then PYTHON=$root/.venv/bin/python; else PYTHON=python3; fi
fi

for tool in wrk haproxy curl "$PYTHON"; do
  command -v "$tool" >/dev/null || { echo "reference_service.sh: $tool is not installed" >&2; exit 2; }
done

workdir=$(mktemp -d)
pids=()
# Stops what this script started; runs on every exit (and is safe to run twice).
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  pids=()
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_ready URL PID: poll until URL answers 200, the process dies, or 10 s pass.
wait_ready() {
  local url=$1 pid=$2 deadline=$((SECONDS + 10))
  until curl -sf -o /dev/null --max-time 1 "$url"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "reference_service.sh: process for $url exited before answering" >&2
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "reference_service.sh: $url did not answer 200 within 10 s" >&2
      return 1
    fi
    sleep 0.05
  done
}

# to_ms VALUE: wrk latency (e.g. 350.12us, 1.20ms, 1.01s) in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n = n / 1000; else if (v ~ /ms$/) n = n; else if (v ~ /m$/) n = n * 60000; else if (v ~ /s$/) n = n * 1000
    printf "%.3f", n }'
}

# run_wrk NAME URL: load URL, print the summary, set RPS and P99_MS.
run_wrk() {
  local name=$1 url=$2 out=$workdir/wrk-$1.txt
  wrk -t"$threads" -c"$connections" -d"$duration" --latency "$url" > "$out"
  if grep -q -E 'Non-2xx|Socket errors' "$out"; then
    echo "reference_service.sh: $name answered errors under load:" >&2
    cat "$out" >&2
    return 1
  fi
  RPS=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  P99_MS=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  printf '%-18s %12.1f req/s   P99 %8.3f ms\n' "$name" "$RPS" "$P99_MS"
}

service_port=$(free_port)
haproxy_port=$(free_port)
while [ "$haproxy_port" = "$service_port" ]; do haproxy_port=$(free_port); done

cat > "$workdir/service.json" <<EOF
{"name": "bench-service", "version": "0.1.0", "listen_host": "127.0.0.1", "listen_port": $service_port,
 "dependencies": [], "faults": {"latency_ms": 0, "error_rate": 0.0, "wrong_hash": false, "ignore_sigterm": false}}
EOF
"$PYTHON" "$service_py" --config "$workdir/service.json" 2> "$workdir/service.log" &
pids+=($!)
wait_ready "http://127.0.0.1:$service_port/health" "${pids[-1]}" || { cat "$workdir/service.log" >&2; exit 1; }

cat > "$workdir/haproxy.cfg" <<EOF
global
    maxconn 4096
    nbthread 1
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
frontend health
    bind 127.0.0.1:$haproxy_port
    http-request return status 200 content-type application/json string '{"status":"healthy"}'
EOF
haproxy -c -q -f "$workdir/haproxy.cfg"
haproxy -db -f "$workdir/haproxy.cfg" 2> "$workdir/haproxy.log" &
pids+=($!)
wait_ready "http://127.0.0.1:$haproxy_port/health" "${pids[-1]}" || { cat "$workdir/haproxy.log" >&2; exit 1; }

echo "wrk -t$threads -c$connections -d$duration --latency, GET /health on loopback ($(nproc) cores)"
run_wrk "reference-service" "http://127.0.0.1:$service_port/health"
service_rps=$RPS service_p99=$P99_MS
run_wrk "haproxy-baseline" "http://127.0.0.1:$haproxy_port/health"
haproxy_rps=$RPS haproxy_p99=$P99_MS

awk -v sr="$service_rps" -v hr="$haproxy_rps" -v sp="$service_p99" -v hp="$haproxy_p99" 'BEGIN {
  printf "ratio service/haproxy: throughput %.3f, P99 latency %.2fx\n", sr / hr, (hp > 0 ? sp / hp : 0) }'

status=0
if awk -v r="$service_rps" -v m="$min_rps" 'BEGIN { exit !(r < m) }'; then
  echo "FAIL: reference service did $service_rps req/s, fewer than $min_rps" >&2
  status=1
fi
if awk -v p="$service_p99" -v m="$max_p99_ms" 'BEGIN { exit !(p >= m) }'; then
  echo "FAIL: reference service P99 $service_p99 ms is not below $max_p99_ms ms" >&2
  status=1
fi
[ "$status" -eq 0 ] && echo "PASS: >= $min_rps req/s and P99 < $max_p99_ms ms"
cleanup
exit "$status"

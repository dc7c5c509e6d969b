#!/usr/bin/env bash
# Benchmark: emergency shutdown of the 7 services (14 instances) with gs-service's blue instance hung
# (SIGSTOP) against a graceful shutdown of the same stack, in one run, restarting in between with
# playbooks/emergency.yml -e acgs_emergency_action=restart; prints the wall time of each (the
# ansible-playbook run, as an operator waits for it), the module's own time, the restart's, and the
# ratio graceful/emergency. Leaves the stack up (a final restart, also after a failure).
# Needs the live stack (make local) and root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$root/.venv/bin:$PATH" ANSIBLE_CONFIG="$root/ansible.cfg"
inv="$root/inventories/local"
log=$(mktemp -d /tmp/acgs-shutdown-bench.XXXXXX)

restore() {
  for p in $(supervisorctl pid all 2>/dev/null); do
    if [ "$p" -gt 0 ] 2>/dev/null; then kill -CONT "$p" || true; fi
  done
  ansible-playbook -i "$inv" "$root/playbooks/emergency.yml" -e acgs_emergency_action=restart >"$log/restore.log" 2>&1 \
    || { echo "restore failed, see $log/restore.log"; exit 1; }
}
trap 'restore' EXIT

# run NAME ARGS...: the wall seconds of one ansible-playbook run; its output in $log/NAME.log
run() {
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  ansible-playbook -i "$inv" "$@" >"$log/$name.log" 2>&1 || { echo "$name failed, see $log/$name.log"; exit 1; }
  t1=$(date +%s.%N)
  python3 -c "print(round($t1 - $t0, 2))"
}
module_seconds() { grep -o "stopped in [0-9.]*s" "$log/$1.log" | head -1 | grep -o "[0-9.]*[0-9]"; }

hung=$(supervisorctl pid acgs-gs-service-blue)
kill -STOP "$hung"
emergency=$(run emergency "$root/playbooks/emergency.yml" -e acgs_emergency_action=shutdown)
[ -d "/proc/$hung" ] && { echo "the hung instance (pid $hung) survived"; exit 1; }
restart=$(run restart "$root/playbooks/emergency.yml" -e acgs_emergency_action=restart)
graceful=$(run graceful "$root/playbooks/shutdown.yml")

echo "emergency shutdown, gs-service blue hung: ${emergency} s (instances stopped in $(module_seconds emergency) s; $(grep -o "killed: [a-z0-9, -]*" "$log/emergency.log" | head -1))"
echo "graceful shutdown:                       ${graceful} s (instances stopped in $(module_seconds graceful) s)"
echo "emergency restart to healthy:            ${restart} s"
python3 -c "print('ratio graceful/emergency: %.2f; emergency under 30 s: %s' % ($graceful / $emergency, $emergency < 30))"

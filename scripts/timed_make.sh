#!/usr/bin/env bash
# make test's runner: each suite as its own make target, in order, stopping at the first that
# fails; prints what each cost (seconds) at the end, also after a failure. Suites joined by +
# (a+b+c) run side by side, each into build/make-test/<suite>.log, printed when all have ended;
# a member written ~name runs at nice 19: it takes only the CPU the others leave, so a suite that
# mostly waits (live-stack targets with time bounds) runs as fast beside it as alone. A member
# written ~name@first runs on past its step and is waited for at the end of the step whose first
# suite is `first` (a long suite that uses the CPU several steps leave).
# nice counts only within a scheduling group, so while it runs (as root) this runner turns off
# Linux's autogroup, which gives each session (dockerd's, each Kubernetes daemon's: setsid) a
# group as heavy as all of make test; it puts it back at the end. Measured on 2 cores: two busy
# threads took 2.1-2.4 s alone, 3.5-3.7 s beside two busy nice-19 threads of another session,
# 1.7-1.9 s with autogroup off (and a live-stack target took 168 s in CI beside the niced suites,
# 92 s alone). The containers stay in dockerd's cpu group (/docker), which weighs as one nice-0
# process: at the weight of a nice-19 one (CI18) the multi-host scenario's own load test timed out
# and its HAProxy marked servers down while the deploy target ran beside it.
# The CPU columns say where the machine's time went: each suite's own processes (user + system of
# the make and its children; not what containers and pods run, which dockerd starts), and each
# step's whole machine (busy time in /proc/stat) against what its cores could give (cores x wall).
set -uo pipefail
declare -a rows=() failed=()
status=0
logs=build/make-test
mkdir -p "$logs"
cores=$(nproc)

machine_cpu() {  # seconds of CPU the whole machine was busy since boot (user, nice, system, irq, softirq);
  # the root cgroup's cpuacct.usage is no measure here: it counted half a core on an idle machine
  awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%d", ($2 + $3 + $4 + $7 + $8) / hz }' /proc/stat
}

autogroup=/proc/sys/kernel/sched_autogroup_enabled
if [ "$(cat "$autogroup" 2>/dev/null)" = 1 ] && echo 0 2>/dev/null >"$autogroup"; then
  trap 'echo 1 >"$autogroup"' EXIT
fi

run_member() {  # run_member TARGET NICENESS: one suite, its seconds, exit code and CPU into $logs/TARGET.rc
  local t0 rc cpu
  t0=$(date +%s)
  nice -n "$2" make --no-print-directory -o sync -o venv "$1" >"$logs/$1.log" 2>&1
  rc=$?
  # bash's `times`, in this shell (a command substitution's fork has no children): its second line is
  # the user and system time of the finished children, as 1m2.345s 0m6.789s
  times >"$logs/$1.times"
  cpu=$(sed -n 2p "$logs/$1.times" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); s += t[1] * 60 + t[2] } printf "%d", s }')
  echo "$(( $(date +%s) - t0 )) $rc $cpu" >"$logs/$1.rc"
  return "$rc"
}

declare -A spanning=() joins=() members=()

report() {  # report TARGET MEMBER STEP PID: wait for one member, print its log, add its row
  local rc seconds cpu
  wait "$4"
  rc=$?
  echo "== $1 (side by side with the rest of $3)"
  cat "$logs/$1.log"
  read -r seconds _ cpu <"$logs/$1.rc"
  rows+=("$(printf '%-20s %6d s  %-6s cpu %5d s' "$2" "$seconds" "$([ "$rc" -eq 0 ] && echo ok || echo FAILED)" "$cpu")")
  [ "$rc" -eq 0 ] || { status=$rc; failed+=("$1"); }
}

join_spanning() {  # join_spanning FIRST: the members that run on until the end of the step starting with FIRST
  local target
  for target in "${!spanning[@]}"; do
    if [ -z "$1" ] || [ "${joins[$target]}" = "$1" ]; then
      report "$target" "${members[$target]}" "the steps it spans" "${spanning[$target]}"
      unset "spanning[$target]"
    fi
  done
}

for step in "$@"; do
  start=$(date +%s)
  cpu0=$(machine_cpu)
  IFS=+ read -r -a group <<<"$step"
  first=${group[0]}
  if [[ "$step" != *+* ]]; then
    ( run_member "$step" 0 )
    status=$?
    cat "$logs/$step.log"
    read -r seconds _ cpu <"$logs/$step.rc"
    rows+=("$(printf '%-20s %6d s  %-6s cpu %5d s' "$step" "$seconds" "$([ "$status" -eq 0 ] && echo ok || echo FAILED)" "$cpu")")
    [ "$status" -eq 0 ] || failed+=("$step")
  else
    declare -A pids=()
    # one toolchain sync first, none in the members (-o: two rsyncs into one tree at once)
    make --no-print-directory sync >/dev/null || { status=$?; break; }
    for member in "${group[@]}"; do
      target=${member#\~}
      target=${target%@*}
      niceness=0
      [ "${member#\~}" = "$member" ] || niceness=19
      ( run_member "$target" "$niceness" ) &
      if [[ "$member" == *@* ]]; then
        spanning[$target]=$!
        joins[$target]=${member##*@}
        members[$target]=$member
      else
        pids[$target]=$!
      fi
    done
    for member in "${group[@]}"; do
      target=${member#\~}
      [[ "$member" == *@* ]] || report "$target" "$member" "$step" "${pids[$target]}"
    done
    unset pids
  fi
  join_spanning "$first"
  wall=$(( $(date +%s) - start ))
  rows+=("$(printf '%-20s %6d s  machine cpu %d s of %d' "  = step" "$wall" "$(( $(machine_cpu) - cpu0 ))" "$(( cores * wall ))")")
  [ "$status" -eq 0 ] || break
done
# a suite still running (its step failed first, or no step starts with what it names) is waited for
join_spanning ""
# CI keeps only the end of this output: why each failed suite failed goes there, above the table.
for suite in "${failed[@]}"; do
  echo "== why $suite failed (its failures, then the end of $logs/$suite.log)"
  # each failure with the task it failed in and the lines after it (the yaml callback spreads its
  # message over them: a first line alone said only "attempts": 30)
  awk '/TASK \[/ { task = $0 }
       /fatal: |FAILED! |^E  |Error: / { if (task != "") print task; task = ""; n = 10 }
       n > 0 { print; n-- }' "$logs/$suite.log" | cut -c1-400 | tail -n 40
  grep -E -a 'failed=[1-9]' "$logs/$suite.log" | cut -c1-200 | tail -n 3
  tail -n 8 "$logs/$suite.log" | cut -c1-600
done
echo "== make test: what each suite cost (seconds; cpu: the suite's own processes)"
printf '%s\n' "${rows[@]}"
exit "$status"

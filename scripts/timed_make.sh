#!/usr/bin/env bash
# make test's runner: each suite as its own make target, in order, stopping at the first that
# fails; prints what each cost (seconds) at the end, also after a failure. Suites joined by +
# (a+b+c) run side by side, each into build/make-test/<suite>.log, printed when all have ended;
# a member written ~name runs at nice 19: it takes only the CPU the others leave, so a suite that
# mostly waits (live-stack targets with time bounds) runs as fast beside it as alone.
# The CPU columns say where the machine's time went: each suite's own processes (user + system of
# the make and its children; not what containers and pods run, which dockerd starts), and each
# step's whole machine (cpuacct of the root cgroup) against what its cores could give (cores x wall).
set -uo pipefail
declare -a rows=() failed=()
status=0
logs=build/make-test
mkdir -p "$logs"
cores=$(nproc)

machine_cpu() {  # seconds of CPU the whole machine used since boot (0 where cpuacct is not mounted)
  local ns
  ns=$(cat /sys/fs/cgroup/cpuacct/cpuacct.usage 2>/dev/null || echo 0)
  echo $(( ns / 1000000000 ))
}

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

for step in "$@"; do
  start=$(date +%s)
  cpu0=$(machine_cpu)
  if [[ "$step" != *+* ]]; then
    ( run_member "$step" 0 )
    status=$?
    cat "$logs/$step.log"
    read -r seconds _ cpu <"$logs/$step.rc"
    rows+=("$(printf '%-20s %6d s  %-6s cpu %5d s' "$step" "$seconds" "$([ "$status" -eq 0 ] && echo ok || echo FAILED)" "$cpu")")
    [ "$status" -eq 0 ] || failed+=("$step")
  else
    IFS=+ read -r -a group <<<"$step"
    declare -A pids=()
    # one toolchain sync first, none in the members (-o: two rsyncs into one tree at once)
    make --no-print-directory sync >/dev/null || { status=$?; break; }
    for member in "${group[@]}"; do
      target=${member#\~}
      niceness=0
      [ "$target" = "$member" ] || niceness=19
      ( run_member "$target" "$niceness" ) &
      pids[$target]=$!
    done
    for member in "${group[@]}"; do
      target=${member#\~}
      wait "${pids[$target]}"
      rc=$?
      echo "== $target (side by side with the rest of $step)"
      cat "$logs/$target.log"
      read -r seconds _ cpu <"$logs/$target.rc"
      rows+=("$(printf '%-20s %6d s  %-6s cpu %5d s' "$member" "$seconds" "$([ "$rc" -eq 0 ] && echo ok || echo FAILED)" "$cpu")")
      [ "$rc" -eq 0 ] || { status=$rc; failed+=("$target"); }
    done
    unset pids
  fi
  wall=$(( $(date +%s) - start ))
  rows+=("$(printf '%-20s %6d s  machine cpu %d s of %d' "  = step" "$wall" "$(( $(machine_cpu) - cpu0 ))" "$(( cores * wall ))")")
  [ "$status" -eq 0 ] || break
done
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

#!/usr/bin/env bash
# make test's runner: each suite as its own make target, in order, stopping at the first that
# fails; prints what each cost (seconds) at the end, also after a failure. Suites joined by +
# (a+b+c) run side by side, each into build/make-test/<suite>.log, printed when all have ended;
# a member written ~name runs at nice 19: it takes only the CPU the others leave, so a suite that
# mostly waits (live-stack targets with time bounds) runs as fast beside it as alone.
set -uo pipefail
declare -a rows=()
status=0
logs=build/make-test
mkdir -p "$logs"
for step in "$@"; do
  start=$(date +%s)
  if [[ "$step" != *+* ]]; then
    make --no-print-directory "$step"
    status=$?
    rows+=("$(printf '%-20s %6d s  %s' "$step" "$(( $(date +%s) - start ))" "$([ "$status" -eq 0 ] && echo ok || echo FAILED)")")
  else
    IFS=+ read -r -a group <<<"$step"
    declare -A pids=()
    # one toolchain sync first, none in the members (-o: two rsyncs into one tree at once)
    make --no-print-directory sync >/dev/null || { status=$?; break; }
    for member in "${group[@]}"; do
      target=${member#\~}
      niceness=0
      [ "$target" = "$member" ] || niceness=19
      ( t0=$(date +%s); nice -n "$niceness" make --no-print-directory -o sync -o venv "$target" >"$logs/$target.log" 2>&1; rc=$?
        echo "$(( $(date +%s) - t0 )) $rc" >"$logs/$target.rc"; exit "$rc" ) &
      pids[$target]=$!
    done
    for member in "${group[@]}"; do
      target=${member#\~}
      wait "${pids[$target]}"
      rc=$?
      echo "== $target (side by side with the rest of $step)"
      cat "$logs/$target.log"
      read -r seconds _ <"$logs/$target.rc"
      rows+=("$(printf '%-20s %6d s  %s' "$member" "$seconds" "$([ "$rc" -eq 0 ] && echo ok || echo FAILED)")")
      [ "$rc" -eq 0 ] || status=$rc
    done
    rows+=("$(printf '%-20s %6d s  (wall time of the group)' "  = group" "$(( $(date +%s) - start ))")")
    unset pids
  fi
  [ "$status" -eq 0 ] || break
done
echo "== make test: what each suite cost"
printf '%s\n' "${rows[@]}"
exit "$status"

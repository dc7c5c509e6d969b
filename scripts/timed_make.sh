#!/usr/bin/env bash
# make test's runner: each suite as its own make target, in order, stopping at the first that
# fails; prints what each cost (seconds) at the end, also after a failure.
set -uo pipefail
declare -a rows=()
status=0
for target in "$@"; do
  start=$(date +%s)
  make --no-print-directory "$target"
  status=$?
  rows+=("$(printf '%-20s %6d s  %s' "$target" "$(( $(date +%s) - start ))" "$([ "$status" -eq 0 ] && echo ok || echo FAILED)")")
  [ "$status" -eq 0 ] || break
done
echo "== make test: what each suite cost"
printf '%s\n' "${rows[@]}"
exit "$status"

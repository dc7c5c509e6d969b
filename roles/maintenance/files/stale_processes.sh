# shellcheck shell=bash
# Processes that still map a program or library file a package upgrade replaced ("(deleted)" in
# /proc/PID/maps): one line each, pid<TAB>comm<TAB>cmdline<TAB>up to 5 such files. Read by the
# acgs.platform.maintenance_restarts filter (roles/maintenance, weekly security updates).
# Only processes of this host's own file system (its mount namespace): a container's processes map its
# image's files, which no upgrade here replaced (and which no lifecycle action here restarts).
set -u
host_mnt=$(readlink "/proc/$$/ns/mnt")
for dir in /proc/[0-9]*; do
  pid=${dir#/proc/}
  [ "$pid" = "$$" ] && continue
  [ "$(readlink "$dir/ns/mnt" 2>/dev/null)" = "$host_mnt" ] || continue
  files=$(grep -oE ' /(usr/)?(s?bin|lib|lib32|lib64|libexec)/[^ ]* \(deleted\)$' "$dir/maps" 2>/dev/null \
          | sed -e 's/ (deleted)$//' -e 's/^ //' | sort -u | head -n 5 | tr '\n' ' ')
  [ -n "$files" ] || continue
  printf '%s\t%s\t%s\t%s\n' "$pid" "$(cat "$dir/comm" 2>/dev/null)" "$(tr '\0' ' ' < "$dir/cmdline" 2>/dev/null)" "${files% }"
done
exit 0

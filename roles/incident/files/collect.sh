#!/usr/bin/env bash
# Forensics of a service's supervisord programs, while they still run, into a staging directory
# (acgs.platform.incident, action isolate). Only reads; stock tools: supervisorctl, ps, pstree, lsof,
# ss, /proc, tail, dpkg-query, last. What ran, its exit status and what was not available go to
# collection.tsv. The acgs_forensics module then redacts every file into the bundle and removes this
# directory, so nothing here is ever kept unredacted.
#
#   collect.sh STAGING LINES PYTHON PROGRAM=LOGFILE=CONFIG...
set -u
export LC_ALL=C

staging=$1
lines=$2
python=$3
shift 3
umask 077
mkdir -p "$staging/host"
index="$staging/collection.tsv"
printf 'file\tstatus\tcommand\n' >"$index"

have() { command -v "$1" >/dev/null 2>&1; }

# run FILE COMMAND...: COMMAND's output and errors into FILE, the line into collection.tsv
run() {
    local out=$1
    shift
    mkdir -p "$(dirname "$staging/$out")"
    "$@" >"$staging/$out" 2>&1
    printf '%s\t%s\t%s\n' "$out" "$?" "$*" >>"$index"
}

# absent FILE WHY: what could not be collected, and why
absent() {
    printf '%s\tabsent\t%s\n' "$1" "$2" >>"$index"
}

# nul_separated SEPARATOR FILE: a /proc file of NUL-separated strings (cmdline, environ), readable
# shellcheck disable=SC2317
nul_separated() {
    tr '\0' "$1" <"$2"
}

# PID and every process under it
descendants() {
    ps -e -o pid=,ppid= | awk -v root="$1" '
        { parent[$1] = $2 }
        END {
            print root; found[root] = 1; more = 1
            while (more) { more = 0; for (p in parent) if (!(p in found) && (parent[p] in found)) { found[p] = 1; print p; more = 1 } }
        }'
}

# the TCP and UDP sockets of the PIDs given (called through run)
# shellcheck disable=SC2317
sockets_of() {
    local pattern
    pattern="pid=($(printf '%s|' "$@" | sed 's/|$//')),"
    ss -tuanpe | awk -v re="$pattern" 'NR == 1 || $0 ~ re'
}

for spec in "$@"; do
    program=${spec%%=*}
    rest=${spec#*=}
    logfile=${rest%%=*}
    config=${rest#*=}
    dir="programs/$program"
    run "$dir/supervisor-status.txt" supervisorctl status "$program"
    if [ -r "$config" ]; then
        run "$dir/config.json" cat "$config"
    else
        absent "$dir/config.json" "no readable $config"
    fi
    if [ -r "$logfile" ]; then
        run "$dir/log-tail.txt" tail -n "$lines" "$logfile"
    else
        absent "$dir/log-tail.txt" "no readable $logfile"
    fi
    pid=$(supervisorctl pid "$program" 2>/dev/null)
    case $pid in
        '' | 0 | *[!0-9]*)
            absent "$dir/processes" "$program is not running (supervisorctl pid: ${pid:-nothing})"
            continue
            ;;
    esac
    mapfile -t pids < <(descendants "$pid")
    printf '%s\n' "${pids[@]}" >"$staging/$dir/pids.txt"
    if have pstree; then
        run "$dir/pstree.txt" pstree -alpu "$pid"
    fi
    run "$dir/ps.txt" ps -o pid,ppid,user,group,lstart,etime,stat,rss,vsz,args --forest -p "$(printf '%s,' "${pids[@]}" | sed 's/,$//')"
    if have lsof; then
        run "$dir/open-files.txt" lsof -n -P -p "$(printf '%s,' "${pids[@]}" | sed 's/,$//')"
    else
        absent "$dir/open-files.txt" "lsof is not installed (see pid-*/fd.txt)"
    fi
    run "$dir/sockets.txt" sockets_of "${pids[@]}"
    for p in "${pids[@]}"; do
        proc=/proc/$p
        [ -d "$proc" ] || { absent "$dir/pid-$p" "process $p ended during the collection"; continue; }
        run "$dir/pid-$p/cmdline.txt" nul_separated ' ' "$proc/cmdline"
        run "$dir/pid-$p/environ.txt" nul_separated '\n' "$proc/environ"
        run "$dir/pid-$p/status.txt" cat "$proc/status"
        run "$dir/pid-$p/links.txt" ls -l "$proc/exe" "$proc/cwd" "$proc/root"
        run "$dir/pid-$p/exe.sha256" sha256sum "$proc/exe"
        run "$dir/pid-$p/fd.txt" ls -l "$proc/fd"
        run "$dir/pid-$p/limits.txt" cat "$proc/limits"
    done
done

# the host around them
run host/date.txt date -u '+%Y-%m-%dT%H:%M:%SZ'
run host/uname.txt uname -a
run host/uptime.txt uptime
run host/ps-forest.txt ps -eo pid,ppid,user,lstart,etime,stat,args --forest
run host/sockets.txt ss -tuanpe
run host/listening.txt ss -tulnp
run host/supervisor-status.txt supervisorctl status
# recent authentication: the syslog files where there are some, the journal where systemd runs, wtmp
found=no
for log in /var/log/auth.log /var/log/secure; do
    if [ -r "$log" ]; then
        run "host/$(basename "$log").txt" tail -n "$lines" "$log"
        found=yes
    fi
done
if [ -d /run/systemd/system ] && have journalctl; then
    run host/auth-journal.txt journalctl --no-pager -q -n "$lines" SYSLOG_FACILITY=4 + SYSLOG_FACILITY=10
    found=yes
fi
[ "$found" = yes ] || absent host/auth-log.txt "no /var/log/auth.log, /var/log/secure or systemd journal on this host"
if have last; then
    run host/last.txt last -F -w -n "$lines"
fi
if have lastlog; then
    run host/lastlog.txt lastlog
fi
# package versions: the system's and the services' Python interpreter's distributions
if have dpkg-query; then
    # shellcheck disable=SC2016 # dpkg-query's own ${field} syntax
    run host/packages-dpkg.txt dpkg-query -W -f '${Package}\t${Version}\t${Architecture}\n'
fi
if have rpm; then
    run host/packages-rpm.txt rpm -qa
fi
if [ -x "$python" ]; then
    run host/packages-python.txt "$python" -c 'import sys, importlib.metadata as m; print(sys.version); print("\n".join(sorted("%s==%s" % (d.metadata["Name"], d.version) for d in m.distributions())))'
fi
exit 0

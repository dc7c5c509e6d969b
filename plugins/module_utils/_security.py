# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the ACGS security scan's findings and report.

Each check turns what a stock module (or a read-only command) returned into
findings, ``{id, severity, title, detail}``; ``report`` sums them up into the
report the deploy gate reads. The acgs.platform.security_findings and
security_report filters call these. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import inspect
import ipaddress
import re

# info: recorded, never a problem (what an operator has accepted, such as a listener in
# acgs_security_allowed_listeners).
SEVERITIES = ("info", "low", "medium", "high", "critical")

# A check that could not look at what it checks is a finding of its own: the report
# must not read as clean because a server was down.
UNCHECKED = "medium"


class SecurityError(ValueError):
    """Input a check cannot read; the message names what is wrong."""


def finding(ident, severity, title, detail=""):
    if severity not in SEVERITIES:
        raise SecurityError("finding %s: unknown severity %r (expected one of %s)" % (ident, severity, ", ".join(SEVERITIES)))
    return {"id": ident, "severity": severity, "title": title, "detail": detail}


def _octal(value):
    if isinstance(value, int):
        return value
    try:
        return int(str(value), 8)
    except ValueError:
        raise SecurityError("mode %r is not an octal mode such as 0600" % (value,))


def _mode_text(mode):
    return "%04o" % mode


# --- files holding secrets -------------------------------------------------------------


def file_permissions(files, max_mode, owner, what, ident):
    """Files whose group or world bits exceed ``max_mode``, or whose owner is not ``owner``.

    ``files`` are ansible.builtin.stat's ``stat`` dicts or ansible.builtin.find's ``files``
    (each with ``path``, ``mode``, ``pw_name``); one that does not exist is unchecked.
    """
    allowed = _octal(max_mode)
    found = []
    for entry in files:
        path = entry.get("path", "?")
        if entry.get("exists") is False:
            found.append(finding("%s-missing" % ident, UNCHECKED, "%s %s does not exist" % (what, path),
                                 "nothing to check; the stack cannot start without it"))
            continue
        mode = _octal(entry.get("mode"))
        excess = mode & ~allowed & 0o077
        if excess:
            readable = "world" if mode & 0o004 else "group" if mode & 0o040 else None
            kind = ("%s-readable" % readable) if readable else "writable by group or world"
            found.append(finding("%s-permissions:%s" % (ident, path), "high", "%s %s is %s (mode %s)" % (what, path, kind, _mode_text(mode)),
                                 "expected at most %s: chmod %s %s" % (_mode_text(allowed), _mode_text(allowed & mode), path)))
        if entry.get("pw_name") != owner:
            found.append(finding("%s-owner:%s" % (ident, path), "high",
                                 "%s %s is owned by %s, not %s" % (what, path, entry.get("pw_name") or entry.get("uid"), owner),
                                 "its owner can read every secret in it: chown %s %s" % (owner, path)))
    return found


# --- TLS certificates ----------------------------------------------------------------


def _asn1_time(value):
    return datetime.datetime.strptime(value, "%Y%m%d%H%M%SZ")


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def tls(results, renew_days, now=None):
    """Certificates served on the TLS ports: expired or not yet valid (high), expiring within
    ``renew_days`` (medium), not reachable (unchecked). One finding per certificate, naming
    every port that serves it.

    ``results`` are community.crypto.get_certificate's results of a loop over catalog entries
    (the port is the item's ``tls_port``); ``now`` a naive UTC datetime.
    """
    now = now or utcnow()
    by_cert = {}
    found = []
    for result in results:
        port = (result.get("item") or {}).get("tls_port")
        if result.get("failed") or not result.get("not_after"):
            found.append(finding("tls-unchecked:%s" % port, UNCHECKED, "no certificate could be read on TLS port %s" % port,
                                 str(result.get("msg") or "no answer")))
            continue
        key = (result.get("serial_number"), result["not_after"], result.get("not_before"))
        by_cert.setdefault(key, []).append(port)
    for (serial, not_after, not_before), ports in sorted(by_cert.items(), key=lambda kv: kv[1][0]):
        where = "port%s %s" % ("s" if len(ports) > 1 else "", ", ".join(str(p) for p in ports))
        ends = _asn1_time(not_after)
        days = (ends - now).total_seconds() / 86400.0
        if days < 0:
            found.append(finding("tls-expired:%s" % ports[0], "high", "TLS certificate on %s expired %s" % (where, ends.isoformat() + "Z"),
                                 "serial %s; clients that verify it refuse the connection" % serial))
        elif not_before and _asn1_time(not_before) > now:
            found.append(finding("tls-not-yet-valid:%s" % ports[0], "high",
                                 "TLS certificate on %s is not valid before %s" % (where, _asn1_time(not_before).isoformat() + "Z"),
                                 "serial %s; check the clock of the host that issued it" % serial))
        elif days < float(renew_days):
            found.append(finding("tls-expiring:%s" % ports[0], "medium",
                                 "TLS certificate on %s expires in %.1f days (%s)" % (where, days, ends.isoformat() + "Z"),
                                 "fewer than acgs_tls_renew_days (%s) remain: site.yml renews the generated one" % renew_days))
    return found


# --- listening sockets ---------------------------------------------------------------

_PROCESS_RE = re.compile(r'\("([^"]+)",pid=(\d+)')


def parse_ss(text):
    """``ss -Htlnp`` lines as ``{address, port, processes}`` (processes: ``name[pid]``)."""
    sockets = []
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        # State Recv-Q Send-Q Local:Port Peer:Port [Process]; -H has no header, -l only LISTEN.
        address, _sep, port = fields[3].rpartition(":")
        if not port.isdigit():
            raise SecurityError("cannot read the local address of ss line %r" % line)
        address = address.strip("[]").split("%")[0]
        processes = ["%s[%s]" % m for m in _PROCESS_RE.findall(line)]
        sockets.append({"address": address, "port": int(port), "processes": processes})
    return sockets


def is_loopback(address):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False  # '*' and names: every address
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def _is_wildcard(address):
    return address in ("*", "0.0.0.0", "::")


def expected_ports(catalog, infrastructure, groups, group_listeners):
    """Port -> what listens there, for the components of the host's ``groups``.

    ``group_listeners`` maps an inventory group to what it runs: names of ``infrastructure``
    (component -> port) and ``service:KEY`` for every catalog entry's KEY (an entry without
    KEY has no such port).
    """
    ports = {}
    for group in groups:
        for what in group_listeners.get(group, []):
            if what.startswith("service:"):
                key = what.split(":", 1)[1]
                for entry in catalog:
                    if entry.get(key) is not None:
                        ports[int(entry[key])] = "%s %s" % (entry["name"], key)
            elif what in infrastructure:
                ports[int(infrastructure[what])] = what
            else:
                raise SecurityError("group %s lists %r, which is neither an infrastructure component (%s) nor service:KEY"
                                    % (group, what, ", ".join(sorted(infrastructure))))
    return ports


def allowed_listener(entry):
    """``(address, port)`` of an acgs_security_allowed_listeners entry, ``ADDRESS:PORT`` or
    ``:PORT`` (any address; address None); an IPv6 address in brackets, ``[::]:22``."""
    text = "" if entry is None or isinstance(entry, (bool, dict, list, tuple)) else str(entry).strip()
    address, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536 or (address and address.strip("[]") == ""):
        raise SecurityError("acgs_security_allowed_listeners entry %r is not ADDRESS:PORT or :PORT "
                            "(such as 0.0.0.0:2024, [::]:22 or :22)" % (entry,))
    return (address.strip("[]").split("%")[0] or None), int(port)


def listeners(ss_text, expected, allowed=None):
    """Sockets listening where the catalog expects nothing.

    ``expected`` maps port -> component (expected_ports); ``allowed`` lists the sockets the
    operator accepts, ``ADDRESS:PORT`` or ``:PORT`` (allowed_listener): each is an info
    finding naming it. Unexpected on a non-loopback address: high; on loopback: low; an
    expected component on every address: medium.
    """
    accepted = [(entry, allowed_listener(entry)) for entry in allowed or []]
    found = []
    for sock in parse_ss(ss_text):
        where = "%s:%d" % (sock["address"] if ":" not in sock["address"] else "[%s]" % sock["address"], sock["port"])
        who = ", ".join(sock["processes"]) or "process not visible"
        entries = [str(entry) for entry, (address, port) in accepted if port == sock["port"] and address in (None, sock["address"])]
        if entries:
            found.append(finding("listener-accepted:%s" % where, "info",
                                 "listener on %s (%s) accepted by acgs_security_allowed_listeners" % (where, who),
                                 "entry %s" % ", ".join(entries)))
            continue
        component = expected.get(sock["port"])
        if component is None:
            if is_loopback(sock["address"]):
                found.append(finding("listener-loopback:%s" % where, "low", "unexpected listener on loopback %s (%s)" % (where, who),
                                     "no ACGS component of this host uses port %d; reachable from this host only" % sock["port"]))
            else:
                found.append(finding("listener-exposed:%s" % where, "high", "unexpected listener on %s (%s)" % (where, who),
                                     "no ACGS component of this host uses port %d and it is reachable from the network: "
                                     "stop it, bind it to loopback, or list %s in acgs_security_allowed_listeners" % (sock["port"], where)))
        elif _is_wildcard(sock["address"]):
            found.append(finding("listener-wildcard:%s" % where, "medium", "%s listens on every address %s (%s)" % (component, where, who),
                                 "bind it to the address its clients use"))
    return found


def listening(result, catalog, infrastructure, groups, group_listeners, allowed=None):
    """The registered result of ``ss -Htlnp`` against what the host's groups run."""
    if result.get("rc") != 0:
        return [finding("listeners-unchecked", UNCHECKED, "the listening sockets could not be listed",
                        (result.get("stderr") or result.get("msg") or "").strip())]
    return listeners(result.get("stdout"), expected_ports(catalog, infrastructure, groups, group_listeners), allowed)


# --- PostgreSQL ----------------------------------------------------------------------


def pg_hba(result, host_methods):
    """community.postgresql.postgresql_query's result of reading pg_hba_file_rules: ``trust``
    anywhere, or a network line whose method is not one of ``host_methods`` (password
    authentication), is high; a line PostgreSQL cannot parse, medium."""
    # A task registered with failed_when false says failed: false; the rows are what count.
    if "query_result" not in result:
        return [finding("pg-hba-unchecked", UNCHECKED, "PostgreSQL's pg_hba rules could not be read", str(result.get("msg") or ""))]
    found = []
    for row in result.get("query_result") or []:
        line = row.get("line_number")
        text = "%s %s %s %s" % (row.get("type"), ",".join(row.get("database") or []), ",".join(row.get("user_name") or []),
                                row.get("address") or "")
        if row.get("error"):
            found.append(finding("pg-hba-error:line-%s" % line, "medium", "pg_hba.conf line %s cannot be used" % line, row["error"]))
            continue
        method = row.get("auth_method")
        if method == "trust":
            found.append(finding("pg-hba-trust:line-%s" % line, "high", "pg_hba.conf line %s trusts without a password: %s" % (line, text.strip()),
                                 "anyone who can connect %s logs in as any of these roles" % ("locally" if row.get("type") == "local" else "from the network")))
        elif str(row.get("type", "")).startswith("host") and method not in host_methods:
            found.append(finding("pg-hba-method:line-%s" % line, "high", "pg_hba.conf line %s uses %s for network connections: %s"
                                 % (line, method, text.strip()), "expected one of %s" % ", ".join(host_methods)))
    return found


# --- Redis ---------------------------------------------------------------------------

_AUTH_REFUSED = ("authentication required", "noauth", "invalid password", "invalid username-password", "wrongpass")


def redis(result, address):
    """community.general.redis_info tried without a password: answering means no requirepass."""
    if "info" in result:
        return [finding("redis-no-password", "high", "Redis at %s answers without a password" % address,
                        "anyone who reaches it reads and writes every key: set requirepass")]
    message = str(result.get("msg") or "")
    if any(marker in message.lower() for marker in _AUTH_REFUSED):
        return []
    return [finding("redis-unchecked", UNCHECKED, "Redis at %s could not be asked whether it needs a password" % address, message)]


# --- HAProxy's runtime API -----------------------------------------------------------


def admin_socket(stat, path):
    """The admin socket (level admin: weights, servers, TLS) must not be world-writable:
    writing to a Unix socket is what connecting takes."""
    if not stat.get("exists"):
        return [finding("haproxy-socket-unchecked", UNCHECKED, "HAProxy admin socket %s does not exist" % path,
                        "HAProxy is not running, or its stats socket is elsewhere (acgs_haproxy_admin_socket)")]
    mode = _octal(stat.get("mode"))
    if mode & 0o002:
        return [finding("haproxy-socket-world-writable", "high", "HAProxy admin socket %s is world-writable (mode %s)" % (path, _mode_text(mode)),
                        "any local user can change weights, disable servers and read the TLS state: mode 660 in haproxy.cfg")]
    return []


# --- processes -----------------------------------------------------------------------

_SUPERVISOR_RE = re.compile(r"^(\S+)\s+(\S+)(?:\s+pid (\d+),)?")


def supervisor_programs(status_text, prefix):
    """``supervisorctl status`` lines of the programs whose name starts with ``prefix``."""
    programs = []
    for line in (status_text or "").splitlines():
        match = _SUPERVISOR_RE.match(line)
        if match and match.group(1).startswith(prefix):
            programs.append({"name": match.group(1), "state": match.group(2),
                             "pid": int(match.group(3)) if match.group(3) else None})
    return programs


def parse_ps(text):
    """``ps -eo pid=,ppid=,uid=,user:32=,comm=`` lines as dicts keyed by pid."""
    processes = {}
    for line in (text or "").splitlines():
        fields = line.split(None, 4)
        if len(fields) < 4:
            continue
        pid, ppid, uid, user = fields[:4]
        processes[int(pid)] = {"pid": int(pid), "ppid": int(ppid), "uid": int(uid), "user": user,
                               "comm": fields[4] if len(fields) > 4 else ""}
    return processes


def processes(status, ps, prefix):
    """The running programs with ``prefix`` (and every process they started) must not run as root.

    ``status`` is the registered result of ``supervisorctl status`` (it exits 3 when a program
    is not running), or the docker or systemd runtime's containers or units listed in its shape
    (roles/security/tasks/scan/processes.yml).
    """
    programs = supervisor_programs(status.get("stdout"), prefix)
    if not programs:
        output = (status.get("stderr") or status.get("stdout") or "").strip()
        why = "" if status.get("rc") in (0, 3) else ": supervisorctl exited %s: %s" % (status.get("rc"), output)
        return [finding("processes-unchecked", UNCHECKED, "no service instance named %s* is listed" % prefix,
                        "the users of the services' processes are unknown%s" % why)]
    table = parse_ps(ps)
    children = {}
    for proc in table.values():
        children.setdefault(proc["ppid"], []).append(proc["pid"])
    found = []
    for program in programs:
        if program["pid"] is None:
            continue
        pending, tree = [program["pid"]], []
        while pending:
            pid = pending.pop()
            if pid in table:
                tree.append(table[pid])
                pending.extend(children.get(pid, []))
        rooted = [p for p in tree if p["uid"] == 0]
        if rooted:
            found.append(finding("process-root:%s" % program["name"], "high", "%s runs as root" % program["name"],
                                 "pid %s: a flaw in the service is a flaw in the host; run it as an unprivileged user"
                                 % ", ".join("%d (%s)" % (p["pid"], p["comm"]) for p in rooted)))
    return found


# --- constitutional hash ---------------------------------------------------------------


def hashes(result):
    """acgs.platform.acgs_hash_check's result: a different hash is critical, none found high."""
    if "services" not in result:
        return [finding("hash-unchecked", "high", "constitutional hash not verified", str(result.get("msg") or ""))]
    found = []
    for kind, items in (("service", result.get("services") or []), ("file", result.get("files") or [])):
        for item in items:
            if item.get("compliant"):
                continue
            where = item.get("source_url") or item.get("url") or item.get("path") or ""
            if item.get("hash"):
                found.append(finding("hash-mismatch:%s" % item["name"], "critical",
                                     "%s %s has constitutional hash %s, expected %s" % (kind, item["name"], item["hash"], result.get("expected_hash")),
                                     "%s; the runbook: investigate immediately" % where))
            else:
                found.append(finding("hash-missing:%s" % item["name"], "high", "%s %s: constitutional hash not verified" % (kind, item["name"]),
                                     "%s: %s" % (where, item.get("error") or "no hash found")))
    return found


# --- Lynis ---------------------------------------------------------------------------

_LYNIS_KINDS = {"warning[]": "warning", "suggestion[]": "suggestion"}


# What coreutils' timeout returns when it stopped the command (TERM, then KILL).
TIMED_OUT = (124, 137)


def lynis(result, report, severities, timeout):
    """warning[] and suggestion[] lines of lynis-report.dat, with ``severities`` per kind.

    ``result`` is the registered result of the audit, run under ``timeout`` seconds; a report
    of an audit that did not finish is not read. A line is ``TEST-ID|text|details|solution|``;
    ``-`` means none.
    """
    if result.get("skipped"):
        return [finding("lynis-unchecked", UNCHECKED, "Lynis did not run", str(result.get("skip_reason") or "not installed"))]
    if result.get("rc") in TIMED_OUT:
        return [finding("lynis-timeout", UNCHECKED, "Lynis did not finish within %s s" % timeout,
                        "the host audit is missing from this report; raise acgs_security_lynis_timeout")]
    if result.get("rc") != 0:
        return [finding("lynis-unchecked", UNCHECKED, "Lynis failed (exit %s)" % result.get("rc"),
                        (result.get("stderr") or result.get("msg") or "").strip()[-500:])]
    found = []
    for line in (report or "").splitlines():
        key, _sep, value = line.partition("=")
        kind = _LYNIS_KINDS.get(key)
        if kind is None:
            continue
        parts = (value.split("|") + ["", "", ""])[:4]
        test, text, details, solution = [p if p != "-" else "" for p in parts]
        detail = "; ".join(x for x in (details, solution.replace("text:", "", 1)) if x)
        found.append(finding("lynis-%s:%s" % (kind, test), severities[kind], "Lynis: %s" % text, detail))
    return found


# --- one entry point for the filter ---------------------------------------------------

CHECKS = {
    "permissions": file_permissions,
    "tls": tls,
    "listeners": listening,
    "pg_hba": pg_hba,
    "redis": redis,
    "admin_socket": admin_socket,
    "processes": processes,
    "hash": hashes,
    "lynis": lynis,
}


def evaluate(check, data, **options):
    """The findings of ``check`` from ``data`` (what its module returned) and its options."""
    if check not in CHECKS:
        raise SecurityError("unknown check %r (known: %s)" % (check, ", ".join(sorted(CHECKS))))
    function = CHECKS[check]
    try:
        inspect.signature(function).bind(data, **options)
    except TypeError as exc:
        raise SecurityError("check %s: %s" % (check, exc))
    try:
        return function(data, **options)
    except (AttributeError, KeyError, TypeError) as exc:
        raise SecurityError("check %s cannot read its input (%s: %s): give it the registered result its documentation names"
                            % (check, type(exc).__name__, exc))


# --- the report ----------------------------------------------------------------------


def _rank(severity):
    return SEVERITIES.index(severity)


def report(checks, host, fail_on, generated_at, not_run=None):
    """The scan's report from ``checks`` (check name -> its findings); ``not_run`` names the
    checks that were not selected, for the summary.

    Findings are sorted worst first; an id that repeats (Lynis names one test per line) gets
    ``#2``, ``#3``. ``passed`` is false when a finding is at least ``fail_on``. Returns the
    report (the deploy gate's contract), the findings at or above ``fail_on`` and the summary
    as text lines.
    """
    if fail_on not in SEVERITIES:
        raise SecurityError("fail_on %r is not one of %s" % (fail_on, ", ".join(SEVERITIES)))
    if not isinstance(checks, dict):
        raise SecurityError("the checks must be a mapping of check name to findings, got %s" % type(checks).__name__)
    findings, seen = [], {}
    for name in sorted(checks):
        for item in checks[name]:
            missing = [k for k in ("id", "severity", "title", "detail") if k not in item]
            if missing or item["severity"] not in SEVERITIES:
                raise SecurityError("check %s returned a malformed finding %r" % (name, item))
            seen[item["id"]] = seen.get(item["id"], 0) + 1
            entry = dict(item)
            if seen[item["id"]] > 1:
                entry["id"] = "%s#%d" % (item["id"], seen[item["id"]])
            findings.append(entry)
    findings.sort(key=lambda f: (-_rank(f["severity"]), f["id"]))
    summary = dict((level, sum(1 for f in findings if f["severity"] == level)) for level in SEVERITIES)
    blocking = [f for f in findings if _rank(f["severity"]) >= _rank(fail_on)]
    result = {"generated_at": generated_at, "host": host, "findings": findings,
              "summary": dict((level, summary[level]) for level in reversed(SEVERITIES)), "passed": not blocking}
    lines = ["ACGS security scan of %s: %s (fails on %s or worse)   critical %d, high %d, medium %d, low %d, info %d"
             % (host, "PASSED" if not blocking else "FAILED", fail_on,
                summary["critical"], summary["high"], summary["medium"], summary["low"], summary["info"])]
    for name in sorted(checks):
        counts = [(level, sum(1 for f in checks[name] if f["severity"] == level)) for level in reversed(SEVERITIES)]
        lines.append("  %-15s %s" % (name, ", ".join("%d %s" % (n, level) for level, n in counts if n) or "ok"))
    lines.extend("  %-15s not run" % name for name in not_run or [])
    for item in findings:
        lines.append("%-8s %s: %s" % (item["severity"].upper(), item["id"], item["title"]))
        # What to do about the findings that fail the scan, right under them.
        if item in blocking and item["detail"]:
            lines.append("%-8s %s" % ("", item["detail"]))
    return {"report": result, "blocking": blocking, "lines": lines}

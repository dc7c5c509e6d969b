# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: PostgreSQL for acgs_backup - pg_dump/pg_restore/pg_basebackup command
lines, data checksums taken in the dump's own snapshot, restore targets, row
counts, and the settings of point-in-time recovery. Connections come from _postgres.

Passwords go to the client tools through the environment (PGPASSWORD), never on
a command line, and are removed from any message. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.acgs.platform.plugins.module_utils._backup_stream import require_tool
from ansible_collections.acgs.platform.plugins.module_utils._libraries import load_library
from ansible_collections.acgs.platform.plugins.module_utils._postgres import connect, query

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")

# order-independent data fingerprint of one table: row count and the sum of
# 60-bit prefixes of each row's md5, so memory stays constant on the server
TABLE_CHECKSUM_SQL = (
    "SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0)::text "
    "FROM %s AS t")


def quote_ident(name):
    return '"' + name.replace('"', '""') + '"'


def env_for(params):
    """The client tools' environment for resolved connection ``params``."""
    env = dict(os.environ)
    for key in ("PGPASSWORD", "PGPASSFILE", "PGSERVICE"):
        env.pop(key, None)
    if params.get("login_password"):
        env["PGPASSWORD"] = params["login_password"]
    env["PGCONNECT_TIMEOUT"] = str(int(params["connect_timeout"]))
    env["PGSSLMODE"] = params["ssl_mode"]
    return env


def conn_args(params):
    return ["--host", params["host"], "--port", str(params["port"]), "--username", params["login_user"], "--no-password"]


def list_databases(conn):
    rows = query(conn, "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate "
                       "AND datname <> 'postgres' ORDER BY datname")
    return [row[0] for row in rows]


def server_version(conn):
    return query(conn, "SHOW server_version")[0][0]


def wal_segment_size(conn):
    rows = query(conn, "SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'")
    return int(rows[0][0]) if rows else 16 * 1024 * 1024


def database_owner(conn, dbname):
    rows = query(conn, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (dbname,))
    return rows[0][0] if rows else None


def database_exists(conn, dbname):
    return bool(query(conn, "SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)))


def role_exists(conn, role):
    return bool(query(conn, "SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)))


def user_tables(conn):
    return query(conn, "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE c.relkind = 'r' AND n.nspname NOT IN %s AND n.nspname NOT LIKE 'pg_temp%%' "
                       "ORDER BY 1, 2", (SYSTEM_SCHEMAS,))


def user_relation_count(conn):
    return query(conn, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname NOT IN %s "
                       "AND n.nspname NOT LIKE 'pg_temp%%'", (SYSTEM_SCHEMAS,))[0][0]


def table_checksums(conn):
    """{schema.table: {rows, checksum}} for every user table."""
    result = {}
    for schema, table in user_tables(conn):
        rows, checksum = query(conn, TABLE_CHECKSUM_SQL % (quote_ident(schema) + "." + quote_ident(table)))[0]
        result["%s.%s" % (schema, table)] = {"rows": int(rows), "checksum": checksum}
    return result


def table_sizes(conn):
    """{schema.table: bytes of its heap and TOAST} for every user table: how a restore balances its data streams."""
    return dict(("%s.%s" % (schema, table), int(size)) for schema, table, size in query(
        conn, "SELECT n.nspname, c.relname, pg_table_size(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
              "WHERE c.relkind = 'r' AND n.nspname NOT IN %s AND n.nspname NOT LIKE 'pg_temp%%'", (SYSTEM_SCHEMAS,)))


def split_data_entries(listing, jobs, sizes=None):
    """The data-section lines of ``pg_restore --list --section=data`` cut into at most ``jobs`` lists.

    Largest table first onto the least loaded list (sizes from table_sizes; unknown
    ones count 0); each list keeps the archive's order, which a pg_restore reading
    the archive as a stream needs. Returns [(bytes, list text)].
    """
    sizes = sizes or {}
    entries = []
    for index, line in enumerate(listing.splitlines()):
        match = re.match(r"^\d+; \d+ \d+ (.*)$", line)
        if not match:
            continue
        words = match.group(1).split(" ")
        # TABLE DATA <schema> <table> <owner>; other data entries (SEQUENCE SET, BLOBS) weigh nothing
        size = sizes.get("%s.%s" % (words[2], words[3]), 0) if words[:2] == ["TABLE", "DATA"] and len(words) > 3 else 0
        entries.append((size, index, line))
    lists = [[] for dummy in range(max(1, min(jobs, len(entries))))]
    loads = [0] * len(lists)
    for size, index, line in sorted(entries, key=lambda e: (-e[0], e[1])):
        target = loads.index(min(loads))
        lists[target].append((index, line))
        loads[target] += size + 1
    return [(loads[i], "\n".join(line for dummy, line in sorted(items)) + "\n") for i, items in enumerate(lists) if items]


def own_file_tables(sizes, min_bytes):
    """The tables at least ``min_bytes`` large (0: none), largest first: each is dumped into a file of its own."""
    if not min_bytes:
        return []
    return [name for name, size in sorted(sizes.items(), key=lambda item: (-item[1], item[0])) if size >= min_bytes]


def table_pattern(schema, table):
    """pg_dump's --table pattern matching exactly that table (quoted: no wildcards, case kept)."""
    return quote_ident(schema) + "." + quote_ident(table)


def row_counts(conn):
    result = {}
    for schema, table in user_tables(conn):
        result["%s.%s" % (schema, table)] = int(query(conn, "SELECT count(*) FROM %s.%s" % (quote_ident(schema), quote_ident(table)))[0][0])
    return result


class SnapshotHolder(object):
    """Holds a REPEATABLE READ transaction open and exports its snapshot, so that
    pg_dump (``--snapshot``) and the data checksums see the same data."""

    def __init__(self, params, dbname):
        self.conn = connect(params, dbname, autocommit=False)
        self.conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        self.snapshot = query(self.conn, "SELECT pg_export_snapshot()")[0][0]

    def close(self):
        try:
            self.conn.rollback()
            self.conn.close()
        except load_library("psycopg2").Error:
            pass


def dump_argv(params, dbname, fmt="custom", jobs=1, level=6, snapshot=None, out_dir=None, extra=()):
    pg_dump = require_tool("pg_dump")
    argv = [pg_dump] + conn_args(params) + ["--format", fmt, "--compress", str(level)] + list(extra)
    if snapshot:
        argv += ["--snapshot", snapshot]
    if fmt == "directory":
        argv += ["--jobs", str(max(1, jobs)), "--file", out_dir]
    return argv + ["--dbname", dbname]


def restore_argv(params, dbname, path=None, jobs=1, no_owner=False, extra=()):
    pg_restore = require_tool("pg_restore")
    argv = [pg_restore] + conn_args(params) + ["--dbname", dbname, "--exit-on-error"] + list(extra)
    if no_owner:
        argv += ["--no-owner", "--no-privileges"]
    if path and jobs > 1:
        argv += ["--jobs", str(jobs)]
    if path:
        argv.append(path)
    return argv


def list_argv(path=None, extra=()):
    pg_restore = require_tool("pg_restore")
    argv = [pg_restore, "--list"] + list(extra)
    return argv + [path] if path else argv


def recreate_database(conn, dbname, owner=None):
    if database_exists(conn, dbname):
        query(conn, "DROP DATABASE %s WITH (FORCE)" % quote_ident(dbname))
    sql = "CREATE DATABASE %s" % quote_ident(dbname)
    if owner and role_exists(conn, owner):
        sql += " OWNER %s" % quote_ident(owner)
    query(conn, sql)


def basebackup_argv(params):
    tool = require_tool("pg_basebackup")
    # tar to stdout needs a single tablespace; WAL needed for consistency is fetched into the tar
    return [tool] + conn_args(params) + [
        "--pgdata", "-", "--format", "tar", "--wal-method", "fetch", "--checkpoint", "fast", "--label", "acgs_backup",
        "--verbose"]


def recovery_settings(wal_archive_dir, target_time=None, target_action="promote"):
    lines = ["# written by acgs.platform.acgs_backup for point-in-time recovery",
             "restore_command = 'cp \"%s/%%f\" \"%%p\"'" % wal_archive_dir.replace("'", "''")]
    if target_time:
        lines.append("recovery_target_time = '%s'" % str(target_time).replace("'", "''"))
        lines.append("recovery_target_inclusive = on")
        lines.append("recovery_target_action = '%s'" % target_action)
    else:
        lines.append("recovery_target_timeline = 'latest'")
    return "\n".join(lines) + "\n"

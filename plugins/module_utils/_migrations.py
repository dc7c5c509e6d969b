# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: a release's database migrations, applied once each, in order (Flyway's rules).

A migration is a file ``NNN_name.sql`` in a release's ``migrations/`` directory. Each runs
in its own transaction and is recorded with the SHA-256 of its file in a table
(``acgs_schema_migrations`` by default). A migration already applied whose file changed
is refused by name: an applied migration is never edited, a new one is added. The plan
(``plan``) is pure; ``apply`` talks to PostgreSQL through _postgres. Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import re
import time

from ansible_collections.acgs.platform.plugins.module_utils import _postgres
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError, scrub
from ansible_collections.acgs.platform.plugins.module_utils._libraries import load_library

FILE_RE = re.compile(r"^(?P<version>[0-9]{1,9})_(?P<name>[A-Za-z0-9_]+)\.sql$")
TABLE_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# One deploy at a time applies migrations to a database (pg_advisory_lock's key).
LOCK_KEY = 0x41434753


class MigrationError(OperatorError):
    """A migration failed or was refused; ``result`` says what was applied before."""

    def __init__(self, message, result):
        super(MigrationError, self).__init__(message)
        self.result = result


def read_migrations(path):
    """The migrations in ``path`` in order: dicts with version, name, file, checksum, sql.

    Raises OperatorError naming a file that is not NNN_name.sql or a version used twice.
    """
    if not os.path.isdir(path):
        raise OperatorError("migrations directory %s does not exist" % path)
    found = {}
    for entry in sorted(os.listdir(path)):
        full = os.path.join(path, entry)
        if not os.path.isfile(full):
            continue
        match = FILE_RE.match(entry)
        if not match:
            raise OperatorError("%s: a migration file is named NNN_name.sql (digits, '_', letters, digits or '_')" % full)
        version = int(match.group("version"))
        if version in found:
            raise OperatorError("migration version %d is used twice: %s and %s" % (version, found[version]["file"], entry))
        with open(full, "rb") as handle:
            data = handle.read()
        found[version] = dict(version=version, name=match.group("name"), file=entry,
                              checksum=hashlib.sha256(data).hexdigest(), sql=data.decode("utf-8"))
    return [found[v] for v in sorted(found)]


def plan(available, applied):
    """What to do: (pending, refused, unknown).

    ``available`` from read_migrations; ``applied`` maps version to (name, checksum) as recorded.
    refused: applied migrations whose file changed; unknown: recorded versions the release lacks
    (an older release after a newer one migrated: not an error, the record says so).
    """
    by_version = dict((m["version"], m) for m in available)
    refused = []
    for version, (name, checksum) in sorted(applied.items()):
        mig = by_version.get(version)
        if mig is not None and mig["checksum"] != checksum:
            refused.append("%s (applied with checksum %s, the file's is now %s)" % (mig["file"], checksum[:12], mig["checksum"][:12]))
    pending = [m for m in available if m["version"] not in applied]
    unknown = ["%03d_%s" % (v, applied[v][0]) for v in sorted(applied) if v not in by_version]
    return pending, refused, unknown


def _quote(table):
    if not TABLE_RE.match(table):
        raise OperatorError("table %r is not a plain lower-case SQL identifier" % table)
    return '"%s"' % table


def recorded(conn, table):
    """version -> (name, checksum) from the table, {} when it does not exist yet."""
    exists = _postgres.query(conn, "SELECT to_regclass(%s) IS NOT NULL", (table,))[0][0]
    if not exists:
        return {}
    rows = _postgres.query(conn, "SELECT version, name, checksum FROM %s ORDER BY version" % _quote(table))
    return dict((int(v), (n, c)) for v, n, c in rows)


def apply(params, database, path, table, check_mode):
    """Apply the pending migrations of ``path`` to ``database``; a result dict (changed, applied, ...).

    Each migration runs in its own transaction with its record; the first one that fails is
    rolled back and raises OperatorError naming it (the ones before it stay applied).
    """
    available = read_migrations(path)
    secrets = [params.get("login_password")]
    conn = _postgres.connect(params, dbname=database, autocommit=True, application_name="acgs_migrations")
    try:
        _postgres.query(conn, "SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        applied = recorded(conn, table)
        pending, refused, unknown = plan(available, applied)
        result = dict(changed=False, database=database, table=table, applied=[], pending=[m["file"] for m in pending],
                      already_applied=["%03d_%s" % (v, applied[v][0]) for v in sorted(applied)], not_in_release=unknown)
        if refused:
            raise MigrationError("refusing to migrate %s: applied migration(s) changed since: %s" % (database, "; ".join(refused)), result)
        if check_mode or not pending:
            result["changed"] = bool(pending)
            return result
        quoted = _quote(table)
        _postgres.query(conn, "CREATE TABLE IF NOT EXISTS %s (version integer PRIMARY KEY, name text NOT NULL, "
                              "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), "
                              "execution_ms integer NOT NULL)" % quoted)
        psycopg2 = load_library("psycopg2")
        conn.autocommit = False
        for mig in pending:
            started = time.time()
            try:
                with conn.cursor() as cur:
                    cur.execute(mig["sql"])
                    cur.execute("INSERT INTO %s (version, name, checksum, execution_ms) VALUES (%%s, %%s, %%s, %%s)" % quoted,
                                (mig["version"], mig["name"], mig["checksum"], int((time.time() - started) * 1000)))
                conn.commit()
            except psycopg2.Error as exc:
                conn.rollback()
                result["failed_migration"] = mig["file"]
                raise MigrationError("migration %s failed and was rolled back (%d applied before it): %s"
                                     % (mig["file"], len(result["applied"]), scrub(str(exc).strip(), secrets)), result)
            result["applied"].append(dict(file=mig["file"], checksum=mig["checksum"],
                                          ms=int((time.time() - started) * 1000)))
            result["changed"] = True
        result["pending"] = []
        return result
    finally:
        conn.close()

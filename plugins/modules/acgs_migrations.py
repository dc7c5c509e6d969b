#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: acgs_migrations
short_description: Apply a release's database migrations once each, in order, with checksums
version_added: 0.1.0
description:
  - Applies the files C(NNN_name.sql) of O(path) to O(database) in the order of their numbers, each in its own
    transaction together with its record (version, name, SHA-256 of the file, time taken) in O(table).
  - A migration already recorded is not run again. One whose file changed since it was applied is refused by name
    and nothing is applied (Flyway's rule - an applied migration is never edited, a new one is added).
  - The first migration that fails is rolled back and named with the server's error; the ones before it stay
    applied and recorded. Deploys serialise on a PostgreSQL advisory lock.
  - Recorded versions the release does not ship (an older release after a newer one migrated) are returned in
    RV(not_in_release); migrations are never reversed.
author:
  - ACGS Operations Team (@acgs)
extends_documentation_fragment:
  - acgs.platform.connection.postgresql
attributes:
  check_mode:
    support: full
    description: Reads the record and returns the pending migrations without applying them.
  diff_mode:
    support: none
    description: The pending migrations are returned instead.
options:
  path:
    description: Directory of the migration files on the managed host (a release's C(migrations/)).
    type: path
    required: true
  database:
    description: Database to migrate.
    type: str
    required: true
  table:
    description: Table recording the applied migrations (created on first use).
    type: str
    default: acgs_schema_migrations
requirements:
  - Python library C(psycopg2) on the managed host.
seealso:
  - module: acgs.platform.acgs_backup
"""

EXAMPLES = r"""
- name: Apply release 0.2.0's migrations to the ACGS database
  acgs.platform.acgs_migrations:
    path: /opt/acgs/releases/auth-service/0.2.0/migrations
    database: acgs
    login_user: acgs
    login_password: "{{ acgs_db_password }}"

- name: Which migrations would run (changes nothing)
  acgs.platform.acgs_migrations:
    path: /opt/acgs/releases/auth-service/0.2.0/migrations
    database: acgs
  check_mode: true
  register: pending
"""

RETURN = r"""
applied:
  description: The migrations this run applied, each with C(file), C(checksum) and C(ms).
  returned: always
  type: list
  elements: dict
pending:
  description: Files not applied yet (after a successful run, empty; in check mode, what would run).
  returned: always
  type: list
  elements: str
already_applied:
  description: The migrations recorded before this run, C(NNN_name).
  returned: always
  type: list
  elements: str
not_in_release:
  description: Recorded migrations that O(path) does not ship.
  returned: always
  type: list
  elements: str
failed_migration:
  description: The file that failed and was rolled back.
  returned: failure
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.acgs.platform.plugins.module_utils import _migrations, _postgres
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.plugins.module_utils._libraries import missing


def main():
    spec = _postgres.argument_spec()
    spec.update(
        path=dict(type="path", required=True),
        database=dict(type="str", required=True),
        table=dict(type="str", default="acgs_schema_migrations"),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    for name, trace in missing(["psycopg2"]):
        module.fail_json(msg="the Python library %s is required on the managed host" % name, exception=trace)
    params = _postgres.resolve(module.params)
    try:
        result = _migrations.apply(params, module.params["database"], module.params["path"],
                                   module.params["table"], module.check_mode)
    except _migrations.MigrationError as exc:
        module.fail_json(msg=str(exc), **exc.result)
    except OperatorError as exc:
        module.fail_json(msg=str(exc), changed=False)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

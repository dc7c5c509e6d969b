#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: acgs_backup
short_description: Take, verify, restore and prune ACGS backup sets (PostgreSQL, Redis, files)
version_added: 0.1.0
description:
  - Takes a backup set of the ACGS platform - PostgreSQL databases (C(pg_dump)), a consistent Redis snapshot,
    configuration and application data directories (C(tar), owners and modes kept), optionally a PostgreSQL base
    backup for point-in-time recovery - and writes a manifest with the size and sha256 of every file, computed while
    the data streams to disk (one pass, bounded memory).
  - The manifest is written last and atomically; a set without a complete manifest is never listed or restored and
    the next run removes its leftovers.
  - Verifies a set (checksums recomputed, C(pg_restore --list), C(redis-check-rdb), C(tar -t)) naming each bad file.
  - Restores a set fully or partially, into the same place or elsewhere (a scratch database, another Redis, another
    root directory), refusing a set that fails verification and a non-empty target unless O(force=true); reports row
    and key counts. Prepares point-in-time recovery from a base backup and a WAL archive.
  - Applies retention (keep the last N sets and/or drop sets older than D days), never deleting the newest verified set,
    then prunes the WAL archive of the segments older than the oldest base backup still kept (C(pg_archivecleanup)).
author:
  - ACGS Operations Team (@acgs)
extends_documentation_fragment:
  - acgs.platform.acgs_backup
attributes:
  check_mode:
    support: full
    description: Nothing is written; V(present) and V(restored) report what they would change after their prechecks.
  diff_mode:
    support: none
    description: Backup sets are not shown as a difference.
options:
  state:
    description:
      - V(present) takes a new set (then verifies it if O(verify=true) and applies O(retention)).
      - V(verified) verifies the set O(backup_id) (default the newest) and records the result in the set.
      - V(restored) verifies, then restores the set O(backup_id) (default the newest).
      - V(absent) removes the set O(backup_id), or applies O(retention) when O(backup_id) is not given.
    type: str
    default: present
    choices: [present, verified, restored, absent]
  backup_id:
    description:
      - The set to verify, restore or remove, C(backup-<epoch>). V(latest) or omitted means the newest complete set.
      - For point-in-time recovery (O(restore.pitr)), V(latest) or omitted means the newest set whose base backup was
        complete before O(restore.pitr.target_time); a given set is refused when the target time is before its base
        backup.
    type: str
  compression:
    description:
      - Compression of the Redis snapshot, the tar archives and the base backup. V(auto) is zstd when the C(zstd)
        binary is installed, gzip otherwise.
      - PostgreSQL dumps use C(pg_dump)'s own compression (O(postgresql.compress_level)).
    type: str
    default: auto
    choices: [auto, gzip, zstd, none]
  postgresql:
    description:
      - The PostgreSQL server to back up or to restore into. Omit it to leave PostgreSQL out of the set.
    type: dict
    suboptions:
      host:
        description: Host name or address, or a unix socket directory.
        type: str
        default: 127.0.0.1
      port:
        description: Port.
        type: int
        default: 5432
      user:
        description: Role to connect as. Restores create databases, so the role needs C(CREATEDB).
        type: str
        default: postgres
      password:
        description: Password of O(postgresql.user); passed to the client tools through the environment, never shown.
        type: str
      maintenance_db:
        description: Database to connect to for listing, dropping and creating databases.
        type: str
        default: postgres
      ssl_mode:
        description: libpq C(sslmode).
        type: str
        choices: [disable, allow, prefer, require, verify-ca, verify-full]
      connect_timeout:
        description: Seconds to wait for a connection.
        type: int
        default: 10
      databases:
        description: Databases to back up. Empty means every connectable non-template database except C(postgres).
        type: list
        elements: str
        default: []
      format:
        description:
          - C(pg_dump) format. V(custom) is streamed, hashed and optionally encrypted in one pass.
          - V(directory) dumps with O(postgresql.jobs) parallel jobs; its files are hashed after C(pg_dump) wrote them,
            and it cannot be encrypted.
        type: str
        default: custom
        choices: [custom, directory]
      jobs:
        description: Parallel C(pg_dump) jobs for O(postgresql.format=directory).
        type: int
        default: 2
      compress_level:
        description: C(pg_dump --compress) level, 0 to 9.
        type: int
        default: 6
      data_checksums:
        description:
          - Also record a row count and an order-independent checksum of every table, taken in the snapshot the dump
            uses (C(pg_export_snapshot)). A restore then compares the restored data against them (RV(restored)).
          - Reads every table once more; meant for drills and small databases.
        type: bool
        default: false
      basebackup:
        description:
          - Also take a base backup of the whole cluster with C(pg_basebackup) (tar, WAL fetched) for point-in-time
            recovery with the WAL archive. The user needs the C(REPLICATION) attribute.
        type: bool
        default: false
      wal_archive_dir:
        description: Where the cluster archives its WAL (recorded in the manifest for point-in-time recovery).
        type: path
  redis:
    description:
      - The Redis server to snapshot or to restore into. Omit it to leave Redis out of the set.
      - The snapshot is streamed with C(SYNC) as a replica receives it, so it is consistent and no file is written on
        the server. A restore loads the snapshot into a private C(redis-server) and copies every key with its TTL
        (C(DUMP)/C(RESTORE)) into the target, which keeps running; with O(force=true) the target is flushed first.
      - A diskless master waits C(repl-diskless-sync-delay) (Redis default 5 s) before it streams the snapshot.
        An ACL user needs the C(SYNC) and C(REPLCONF) commands.
    type: dict
    suboptions:
      host:
        description: Host name or address.
        type: str
        default: 127.0.0.1
      port:
        description: Port.
        type: int
        default: 6379
      username:
        description: ACL user name, if the server uses ACL users.
        type: str
      password:
        description: Password (C(requirepass) or the ACL user's); never shown.
        type: str
      unix_socket:
        description: Unix socket path; used instead of O(redis.host) and O(redis.port) when given.
        type: path
      connect_timeout:
        description: Seconds to wait for a connection and for each reply.
        type: int
        default: 10
  paths:
    description:
      - Configuration and application data directories (or files) to archive with C(tar), owners, modes and numeric
        ids kept. A path that does not exist is skipped with a warning.
    type: list
    elements: path
    default: []
  verify:
    description: With O(state=present), verify the new set before reporting success.
    type: bool
    default: true
  retention:
    description:
      - Which sets to keep, applied after O(state=present) and by O(state=absent) without O(backup_id).
      - The newest verified set is never deleted (nor the newest set when none is verified), nor the set just taken.
      - Then, in each WAL archive the sets' base backups name, the WAL segments older than the start WAL file of the
        oldest base backup still kept are removed with C(pg_archivecleanup) (RV(wal_removed)). Nothing is removed from
        an archive when no kept set has a base backup in it, or when a kept base backup's start WAL is unknown.
    type: dict
    suboptions:
      keep_last:
        description: Keep at most this many sets.
        type: int
      max_age_days:
        description: Delete sets older than this many days (the runbook keeps 30).
        type: float
  force:
    description:
      - With O(state=restored), restore into targets that are not empty (a database with relations, a Redis with keys,
        a non-empty directory). Databases are dropped and recreated, Redis is flushed, files are overwritten.
    type: bool
    default: false
  restore:
    description: What and where to restore with O(state=restored).
    type: dict
    suboptions:
      components:
        description:
          - Components to restore (partial recovery). Default every component of the set, plus V(pitr) when
            O(restore.pitr) is given.
        type: list
        elements: str
        choices: [postgresql, redis, paths, pitr]
      databases:
        description: "Maps a database of the set to the database to restore it into, for example C({acgs: acgs_restore_test})."
        type: dict
        default: {}
      no_owner:
        description: Restore without the dump's owners and privileges (C(pg_restore --no-owner --no-privileges)).
        type: bool
        default: false
      jobs:
        description: Parallel C(pg_restore) jobs (unencrypted sets).
        type: int
        default: 2
      paths:
        description: Restore only these paths of the set (default all).
        type: list
        elements: path
      paths_root:
        description: Directory the archived paths are restored under; V(/) puts them back where they were.
        type: path
        default: /
      pitr:
        description: Point-in-time recovery of a whole cluster from the set's base backup and the WAL archive.
        type: dict
        suboptions:
          data_directory:
            description:
              - The cluster's data directory; must be empty or absent unless O(force=true). The module fills it and
                writes C(recovery.signal) and the recovery settings; starting the server performs the recovery.
            type: path
            required: true
          target_time:
            description:
              - Recover up to this time (C(recovery_target_time)), for example C(2026-01-01 12:00:00+00). It must carry
                a time zone (C(+00), C(Z), C(UTC), C(+01:00)).
              - Default the end of the archive.
            type: str
          wal_archive_dir:
            description: The WAL archive. Default the one recorded in the set.
            type: path
          owner:
            description: Owner of the restored data directory.
            type: str
            default: postgres
          target_action:
            description: C(recovery_target_action).
            type: str
            default: promote
            choices: [promote, pause, shutdown]
  constitutional_hash:
    description: The constitutional hash recorded in the manifest.
    type: str
    default: cdd01ef066bc6cf2
notes:
  - Files are created with mode C(0600) and directories with C(0700). Runs on one store are serialised with a lock file.
  - Needs C(pg_dump)/C(pg_restore) for PostgreSQL, C(redis-server) and C(redis-check-rdb) to verify and restore Redis,
    GNU C(tar), and C(gzip) or C(zstd), on the managed host. The Python library C(psycopg2) is needed for PostgreSQL.
seealso:
  - module: acgs.platform.acgs_backup_info
"""

EXAMPLES = r"""
- name: Back up the acgs database, Redis, configuration and data; keep 30 days
  acgs.platform.acgs_backup:
    backup_dir: /var/backups/acgs
    postgresql:
      user: acgs
      password: "{{ acgs_postgresql_password }}"
      databases: [acgs]
    redis:
      password: "{{ acgs_redis_password }}"
    paths: [/etc/acgs, /var/lib/acgs]
    retention:
      max_age_days: 30
  register: backup

- name: Verify the newest set
  acgs.platform.acgs_backup:
    backup_dir: /var/backups/acgs
    state: verified

- name: Test-restore the database into a scratch database
  acgs.platform.acgs_backup:
    backup_dir: /var/backups/acgs
    state: restored
    backup_id: "{{ backup.backup_id }}"
    postgresql:
      user: postgres
    restore:
      components: [postgresql]
      databases:
        acgs: acgs_restore_test
      no_owner: true
    force: true

- name: Configuration only, as the runbook's partial recovery
  acgs.platform.acgs_backup:
    backup_dir: /var/backups/acgs
    state: restored
    restore:
      components: [paths]
      paths: [/etc/acgs]
    force: true

- name: Drop a set
  acgs.platform.acgs_backup:
    backup_dir: /var/backups/acgs
    state: absent
    backup_id: backup-1234567890
"""

RETURN = r"""
backup_id:
  description: The set taken, verified, restored or removed.
  returned: always
  type: str
  sample: backup-1767225600
backup_dir:
  description: The backup store.
  returned: always
  type: str
  sample: /var/backups/acgs
backup_path:
  description: Directory of the set.
  returned: always
  type: str
  sample: /var/backups/acgs/backup-1767225600
manifest:
  description:
    - The set's manifest - C(backup_id), C(created), C(duration_seconds), C(constitutional_hash), C(source_host),
      C(tools) (versions), C(components) (what was backed up, from where), C(files) (each with C(size), C(sha256),
      C(kind), C(compression), C(encrypted)), C(total_size), C(encryption) (algorithm and key fingerprint or null).
    - Empty for V(absent) and in check mode for V(present).
  returned: always
  type: dict
  sample: {backup_id: backup-1767225600, files: {postgresql/acgs.dump: {size: 1024, sha256: "9f86d0..."}}}
verification:
  description: Result of the verification - C(ok), C(files) (each C(ok) and C(error)), C(bad_files), C(summary).
  returned: always
  type: dict
  sample: {ok: false, bad_files: [redis/dump.rdb.zst], summary: "redis/dump.rdb.zst: sha256 mismatch"}
restored:
  description:
    - With V(restored) - C(plan) (each target and whether it was empty), C(postgresql) (per database the C(target),
      C(rows) per table, C(total_rows), C(data_match) against the checksums taken at backup time or null),
      C(redis) (C(keys) per db, C(total_keys)), C(paths) (files restored), C(pitr).
  returned: always
  type: dict
  sample: {postgresql: {acgs: {target: acgs_restore_test, total_rows: 1000, data_match: true}}}
removed:
  description: Sets deleted by V(absent) or by retention.
  returned: always
  type: list
  elements: str
  sample: [backup-1764547200]
wal_removed:
  description: Number of WAL segments removed from the WAL archive(s) by retention (would be, in check mode).
  returned: always
  type: int
  sample: 42
wal_cleanup:
  description:
    - Per WAL archive - C(archive), C(oldest_kept_wal) (the start WAL file of the oldest kept base backup, given to
      C(pg_archivecleanup)), C(backup_id) (that set), C(removed) (segment names), and C(skipped) (why nothing was removed).
  returned: always
  type: list
  elements: dict
  sample: [{archive: /var/backups/acgs-wal, oldest_kept_wal: 000000010000000000000007, removed: [000000010000000000000005]}]
leftovers_removed:
  description: Incomplete sets and temporary directories of interrupted runs that were removed.
  returned: always
  type: list
  elements: str
  sample: [.backup-1767225500.partial]
duration_seconds:
  description: Wall time of the operation.
  returned: always
  type: float
  sample: 12.5
state:
  description: The requested state.
  returned: always
  type: str
  sample: present
"""

import traceback

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.acgs.platform.plugins.module_utils._backup import BackupError
from ansible_collections.acgs.platform.plugins.module_utils import _backup_ops as ops


def main():
    module = AnsibleModule(argument_spec=ops.argument_spec(), supports_check_mode=True)
    params = module.params
    result = ops.empty_result(params)
    try:
        state = params["state"]
        if state == "present":
            result = ops.create_set(params, module.check_mode, warn=module.warn)
        elif state == "verified":
            chosen = ops.store.select_set(params["backup_dir"], params.get("backup_id"))
            result.update(backup_id=chosen["backup_id"], backup_path=chosen["path"], manifest=chosen["manifest"])
            result["verification"] = ops.verify_set(params, backup_id=chosen["backup_id"], check_mode=module.check_mode)
            if not result["verification"]["ok"]:
                module.fail_json(msg="backup set %s fails verification: %s" % (chosen["backup_id"], result["verification"]["summary"]),
                                 **result)
        elif state == "restored":
            result = ops.restore_set(params, module.check_mode, warn=module.warn)
        else:
            result = ops.remove_sets(params, module.check_mode)
    except BackupError as exc:
        module.fail_json(msg=str(exc), **result)
    except (OSError, IOError) as exc:
        module.fail_json(msg="acgs_backup: %s" % exc, exception=traceback.format_exc(), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

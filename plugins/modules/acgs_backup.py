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
  - acgs.platform.connection.backup
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
      - Compression of the PostgreSQL custom-format dumps, the Redis snapshot, the tar archives and the base backup.
        V(auto) is zstd when the C(zstd) binary is installed, gzip otherwise.
      - With zstd, C(pg_dump) sends its data uncompressed (C(--compress 0)) and C(zstd) compresses it with
        O(compression_threads) threads on the way to disk, hashed (and encrypted) in the same pass. With V(gzip) or
        V(none), custom-format dumps keep C(pg_dump)'s own compression (O(postgresql.compress_level)), as in sets
        written before this option covered them; directory-format dumps always do.
      - Sets of either kind verify and restore alike; each file's compression is recorded in the manifest.
    type: str
    default: auto
    choices: [auto, gzip, zstd, none]
  compression_level:
    description:
      - Level of the compressor, 1 to 19 for zstd, 1 to 9 for gzip. Default V(1) for zstd (C(zstd -1)), V(6) for gzip.
      - C(zstd -1) writes PostgreSQL dumps no larger than C(pg_dump -Fc) (zlib level 6) at a fraction of its CPU
        time; higher levels trade speed for a few per cent of size.
    type: int
  compression_threads:
    description:
      - Worker threads of C(zstd) (C(-T)). Default (or V(0)) one per core the module may run on.
    type: int
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
        description:
          - Parallel C(pg_restore) jobs. Default one per core.
          - A compressed (zstd) or encrypted custom-format dump is not decoded to disk (C(pg_restore) runs parallel
            jobs only on a seekable file). The verification that precedes every restore keeps its decoded table of
            contents in a scratch directory of O(backup_dir) (C(.restore-*), removed afterwards); from it the
            pre-data and then, with O(restore.jobs) jobs, the post-data sections (indexes, constraints) are
            restored, and in between the data of the tables in O(restore.jobs) C(pg_restore) processes at once,
            each reading a file of the set through its own decompressor; a table that has a file of its own
            (O(postgresql.table_file_min_mb)) alone, the other tables in lists balanced by the sizes recorded at
            backup time, largest first.
        type: int
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
    description: The constitutional hash recorded in the manifest. Default the hash of the collection's service catalog.
    type: str
notes:
  - Files are created with mode C(0600) and directories with C(0700). Runs on one store are serialised with a lock file.
  - Needs C(pg_dump)/C(pg_restore) for PostgreSQL, C(redis-server) and C(redis-check-rdb) to verify and restore Redis,
    GNU C(tar), and C(gzip) or C(zstd), on the managed host.
requirements:
  - psycopg2 (for O(postgresql))
  - redis (for O(redis))
seealso:
  - module: acgs.platform.acgs_backup_info
"""

EXAMPLES = r"""
- name: Back up the acgs database, Redis, configuration and data; keep 30 days
  acgs.platform.acgs_backup:
    backup_dir: /var/backups/acgs
    postgresql:
      login_user: acgs
      login_password: "{{ acgs_postgresql_password }}"
      databases: [acgs]
    redis:
      login_password: "{{ acgs_redis_password }}"
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
      login_user: postgres
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
    - The set's manifest - C(format_version) (3; sets of versions 1 and 2 still verify and restore; a set of a
      newer version is refused, naming it), C(backup_id),
      C(created), C(duration_seconds), C(constitutional_hash), C(source_host), C(tools) (versions), C(components)
      (what was backed up, from where; per database its C(files) - the database's dump first, then the files of
      its largest tables - C(owner), C(checksums) and C(table_bytes)),
      C(files) (each with C(size), C(sha256), C(kind), C(compression), C(encrypted), and C(table) for a table's
      own file), C(total_size), C(compression),
      C(compression_level), C(compression_threads), C(encryption) (algorithm and key fingerprint or null).
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

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.acgs.platform.plugins.module_utils import _postgres, _redis
from ansible_collections.acgs.platform.plugins.module_utils._backup_create import create_set
from ansible_collections.acgs.platform.plugins.module_utils._backup_restore import restore_set
from ansible_collections.acgs.platform.plugins.module_utils._backup_retention import remove_sets
from ansible_collections.acgs.platform.plugins.module_utils._backup_store import empty_result
from ansible_collections.acgs.platform.plugins.module_utils._backup_verify import verified_set
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError
from ansible_collections.acgs.platform.plugins.module_utils._libraries import missing


def main():
    postgresql = _postgres.argument_spec()
    postgresql.update(
        databases=dict(type="list", elements="str", default=[]),
        format=dict(type="str", default="custom", choices=["custom", "directory"]),
        jobs=dict(type="int"),
        table_file_min_mb=dict(type="int", default=64),
        compress_level=dict(type="int", default=6),
        data_checksums=dict(type="bool", default=False),
        basebackup=dict(type="bool", default=False),
        wal_archive_dir=dict(type="path"),
    )
    module = AnsibleModule(supports_check_mode=True, argument_spec=dict(
        backup_dir=dict(type="path", required=True),
        encryption_key_file=dict(type="path", no_log=False),
        state=dict(type="str", default="present", choices=["present", "verified", "restored", "absent"]),
        backup_id=dict(type="str"),
        compression=dict(type="str", default="auto", choices=["auto", "gzip", "zstd", "none"]),
        compression_level=dict(type="int"),
        compression_threads=dict(type="int"),
        postgresql=dict(type="dict", options=postgresql),
        redis=dict(type="dict", options=_redis.argument_spec()),
        paths=dict(type="list", elements="path", default=[]),
        verify=dict(type="bool", default=True),
        retention=dict(type="dict", options=dict(
            keep_last=dict(type="int"),
            max_age_days=dict(type="float"),
        )),
        force=dict(type="bool", default=False),
        restore=dict(type="dict", options=dict(
            components=dict(type="list", elements="str", choices=["postgresql", "redis", "paths", "pitr"]),
            databases=dict(type="dict", default={}),
            no_owner=dict(type="bool", default=False),
            jobs=dict(type="int"),
            paths=dict(type="list", elements="path"),
            paths_root=dict(type="path", default="/"),
            pitr=dict(type="dict", options=dict(
                data_directory=dict(type="path", required=True),
                target_time=dict(type="str"),
                wal_archive_dir=dict(type="path"),
                owner=dict(type="str", default="postgres"),
                target_action=dict(type="str", default="promote", choices=["promote", "pause", "shutdown"]),
            )),
        )),
        constitutional_hash=dict(type="str"),
    ))
    params = module.params
    result = empty_result(params)
    needed = [lib for option, lib in (("postgresql", "psycopg2"), ("redis", "redis"), ("encryption_key_file", "cryptography"))
              if params[option]]
    for library, error in missing(needed):
        module.fail_json(msg=missing_required_lib(library), exception=error, **result)
    try:
        if params["state"] == "present":
            result = create_set(params, module.check_mode, warn=module.warn)
        elif params["state"] == "verified":
            result = verified_set(params, module.check_mode)
        elif params["state"] == "restored":
            result = restore_set(params, module.check_mode)
        else:
            result = remove_sets(params, module.check_mode)
    except OperatorError as exc:
        module.fail_json(msg=str(exc), **result)
    except (OSError, IOError) as exc:
        module.fail_json(msg="acgs_backup: %s" % exc, exception=traceback.format_exc(), **result)
    if params["state"] == "verified" and not result["verification"]["ok"]:
        module.fail_json(msg="backup set %s fails verification: %s" % (result["backup_id"], result["verification"]["summary"]),
                         **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

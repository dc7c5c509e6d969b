# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from textwrap import indent

# The connection options of PostgreSQL and Redis, written once (module_utils/_connection.py,
# _postgres.py and _redis.py hold their argument specs). Ansible merges a fragment's options
# one level deep only, so the options that hold connections are documented here whole:
# acgs_health's dependencies (HEALTH) and acgs_backup's postgresql and redis (BACKUP).
_CONNECTION = r"""
host:
  description:
    - Host name or address of the server; for PostgreSQL also the directory of its unix socket.
    - Default V(127.0.0.1); for M(acgs.platform.acgs_health), its C(host) option.
  type: str
port:
  description:
    - Port of the server. Default the port the collection's catalog gives the component (5432 for PostgreSQL,
      6379 for Redis, 4222 for NATS), see C(lookup('acgs.platform.service_catalog', 'infrastructure')).
  type: int
login_user:
  description:
    - User to log in as - the PostgreSQL role (default V(postgres)), the Redis ACL user (none by default, for
      C(requirepass)) or the NATS user.
  type: str
  aliases: [user, username]
login_password:
  description:
    - Password of the user (for Redis the C(requirepass) password, or the ACL user's; for NATS without a user, the token).
    - Never shown in output or error messages; the PostgreSQL client tools get it through the environment.
  type: str
  aliases: [password]
connect_timeout:
  description:
    - Seconds to wait for the connection (for Redis also for each reply).
    - Default V(10); for M(acgs.platform.acgs_health), its C(timeout) option (at least 2 for PostgreSQL).
  type: int
"""

_POSTGRESQL = r"""
login_db:
  description: PostgreSQL database to connect to (where acgs_backup lists, drops and creates databases). Default V(postgres).
  type: str
  aliases: [db, maintenance_db]
ssl_mode:
  description: PostgreSQL C(sslmode) (libpq).
  type: str
  default: prefer
  choices: [disable, allow, prefer, require, verify-ca, verify-full]
"""

_REDIS = r"""
unix_socket:
  description: Unix socket of the Redis server; used instead of C(host) and C(port) when given.
  type: path
"""

_DEPENDENCY = r"""
name:
  description: Name of the dependency, as the services' O(services[].dependencies) name it.
  type: str
  required: true
type:
  description:
    - V(postgresql) connects with psycopg2 and runs a query; pool use is the number of
      connections in C(pg_stat_activity) over C(max_connections).
    - V(redis) sends PING and INFO with the redis library; the hit rate comes from C(keyspace_hits) and C(keyspace_misses).
    - V(nats) does the NATS protocol handshake (INFO, CONNECT, PING/PONG) and reports whether JetStream is enabled.
    - V(tcp) opens a TCP connection (O(dependencies[].port) required). V(http) GETs O(dependencies[].url).
  type: str
  required: true
  choices: [postgresql, redis, nats, tcp, http]
url:
  description: URL of an V(http) dependency.
  type: str
status_codes:
  description: HTTP status codes that count as up for an V(http) dependency.
  type: list
  elements: int
  default: [200]
redis_db:
  description: Redis database number.
  type: int
  default: 0
tls:
  description: Use TLS for Redis or NATS.
  type: bool
  default: false
required:
  description:
    - Whether the platform needs this dependency. A dependency that is not required only makes
      the platform degraded when it is down.
  type: bool
  default: true
pool_threshold_percent:
  description: PostgreSQL connection pool use above which the dependency counts as degraded.
  type: float
  default: 80.0
"""

_BACKUP_POSTGRESQL = r"""
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
  description:
    - Parallel C(pg_dump) jobs for O(postgresql.format=directory), and for V(custom) the C(pg_dump) processes that run
      at once when tables have files of their own (O(postgresql.table_file_min_mb)). Default one per core.
  type: int
table_file_min_mb:
  description:
    - With V(custom) format compressed with zstd or encrypted, each table at least this large (heap and TOAST, in MiB)
      has its data in a file of its own, dumped beside the rest of the database in the same snapshot
      (C(pg_export_snapshot)). A restore then loads it in a stream of its own, without decompressing past the
      other tables. V(0) keeps every table in the database's one dump.
  type: int
  default: 64
compress_level:
  description:
    - C(pg_dump --compress) level, 0 to 9, where C(pg_dump) compresses - directory format, or custom format unless
      O(compression) is zstd (then C(pg_dump) sends uncompressed data and C(zstd) compresses it, see O(compression)).
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
"""


def _suboptions(*blocks):
    """The blocks as the suboptions of a top-level option."""
    return indent("".join(block.lstrip("\n") for block in blocks), " " * 6)


class ModuleDocFragment(object):
    """acgs.platform.connection.health and acgs.platform.connection.backup.

    Their texts are put together below the class: ansible-test's yamllint reads only
    literal strings in a fragment's class body.
    """


ModuleDocFragment.HEALTH = r"""
options:
  dependencies:
    description:
      - Infrastructure to probe with its own protocol.
      - A dependency that a service names in O(services[].dependencies) (or in the catalog) but no entry defines
        is not checked, with a warning.
    type: list
    elements: dict
    default: []
    suboptions:
""" + _suboptions(_DEPENDENCY, _CONNECTION, _POSTGRESQL, _REDIS)

ModuleDocFragment.BACKUP = r"""
options:
  postgresql:
    description:
      - The PostgreSQL server to back up or to restore into. Omit it to leave PostgreSQL out of the set.
      - Restores create databases, so the role needs C(CREATEDB).
    type: dict
    suboptions:
""" + _suboptions(_CONNECTION, _POSTGRESQL, _BACKUP_POSTGRESQL) + r"""
  redis:
    description:
      - The Redis server to snapshot or to restore into. Omit it to leave Redis out of the set.
      - The snapshot is streamed with C(SYNC) as a replica receives it, so it is consistent. The module does not
        advertise the diskless (C(EOF)) capability, so the server starts a C(BGSAVE) at once (or joins one in progress)
        and sends its RDB file, rewritten as by C(BGSAVE), instead of waiting C(repl-diskless-sync-delay) (Redis
        default 5 s) as a diskless master does for more replicas. When the server cannot write its RDB file, the
        module falls back to a diskless C(SYNC) (with that delay). A restore loads the snapshot into a private C(redis-server) and copies every key with its TTL
        (C(DUMP)/C(RESTORE)) into the target, which keeps running; with O(force=true) the target is flushed first.
      - An ACL user needs the C(SYNC) and C(REPLCONF) commands.
    type: dict
    suboptions:
""" + _suboptions(_CONNECTION, _REDIS)

ModuleDocFragment.POSTGRESQL = r"""
options:
""" + indent(_CONNECTION.lstrip("\n") + _POSTGRESQL.lstrip("\n"), "  ")

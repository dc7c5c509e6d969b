#!/usr/bin/env bash
# Benchmark: acgs_backup of a PostgreSQL database of at least 1 GB (pgbench tables
# plus a table of random bytes, so the dump does not shrink to nothing) against
# `pg_dump -Fc -f FILE` and the hand-made `pg_dump -Fc -Z0 | zstd -T0` in the same
# run, alternating. Prints the median times, sizes and ratios with PASS/MISS per
# target (backup <= 0.30 x pg_dump -Fc with a set no larger than its file, <= 1.10 x
# the pipeline; restore = verify + restore + row counts <= 1.05 x `pg_restore -j 2`
# of pg_dump's file; the module's peak RSS < 200 MB); exit status 1 on any MISS.
# Slow (minutes); not part of `make test`. See benchmarks/backup_bench.py.
#
# It starts its own PostgreSQL 15 cluster (pg_createcluster, port BENCH_PG_PORT) and
# leaves it for the next run unless BENCH_DROP=1; the stack's servers are not touched.
# Run as root.
#
# Environment: BENCH_RUNS (3), BENCH_SCALE (pgbench scale, 50), BENCH_NOISE_MB (400),
# BENCH_PG_PORT (5595), BENCH_DIR (/var/tmp/acgs-backup-bench), BENCH_DROP (0),
# PYTHON (the collection's .venv python, else python3).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$root/.venv/bin/python" ]; then PYTHON=$root/.venv/bin/python; else PYTHON=python3; fi
fi
for tool in pg_createcluster pg_ctlcluster pgbench pg_dump pg_restore psql runuser zstd; do
  command -v "$tool" >/dev/null || { echo "backup.sh: $tool is not installed" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "backup.sh: run as root (it creates a scratch PostgreSQL cluster)" >&2; exit 2; }

export BENCH_PG_PORT=${BENCH_PG_PORT:-5595}
export BENCH_DIR=${BENCH_DIR:-/var/tmp/acgs-backup-bench}
export BENCH_PASSWORD=${BENCH_PASSWORD:-bench-$(hostname | sha256sum | cut -c1-12)}
cluster=acgsbench
scale=${BENCH_SCALE:-50}
noise_mb=${BENCH_NOISE_MB:-400}

psql_su() { runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qAt -p "$BENCH_PG_PORT" "$@"; }

if ! pg_lsclusters -h | awk '{print $2}' | grep -qx "$cluster"; then
  pg_createcluster 15 "$cluster" -p "$BENCH_PG_PORT" >/dev/null
fi
pg_ctlcluster 15 "$cluster" start 2>/dev/null || true
psql_su -c "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench') THEN
  CREATE ROLE bench LOGIN SUPERUSER PASSWORD '$BENCH_PASSWORD'; END IF; END\$\$"
if [ "$(psql_su -c "SELECT count(*) FROM pg_database WHERE datname = 'bench'")" = 0 ] || \
   [ "$(psql_su -d bench -c "SELECT count(*) FROM pg_tables WHERE tablename = 'noise'")" = 0 ]; then
  echo "== creating the bench database: pgbench scale $scale + $noise_mb MB of random bytes"
  psql_su -c "DROP DATABASE IF EXISTS bench" -c "CREATE DATABASE bench OWNER bench"
  PGPASSWORD=$BENCH_PASSWORD pgbench -q -i -s "$scale" -h 127.0.0.1 -p "$BENCH_PG_PORT" -U bench bench
  psql_su -d bench -c "CREATE EXTENSION IF NOT EXISTS pgcrypto" \
    -c "CREATE TABLE noise AS SELECT i AS id, $(printf 'gen_random_bytes(1024)%.0s || ' 1 2 3 4 5 6 7)gen_random_bytes(1024) AS payload FROM generate_series(1, $((noise_mb * 128))) i" \
    -c "ALTER TABLE noise OWNER TO bench"
fi
echo "== bench database: $(psql_su -c "SELECT pg_size_pretty(pg_database_size('bench'))")"

mkdir -p "$BENCH_DIR"
status=0
"$PYTHON" "$root/benchmarks/backup_bench.py" || status=$?

if [ "${BENCH_DROP:-0}" = 1 ]; then
  pg_dropcluster --stop 15 "$cluster"
  rm -rf "$BENCH_DIR"
fi
exit $status

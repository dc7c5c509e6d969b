-- pg_stat_statements' top statements of the ACGS database by total execution time (those of roles
-- that are not superusers: the services', not this maintenance's own), with the database's buffer
-- cache hit ratio; run as postgres in the database holding the extension.
SELECT (SELECT coalesce(json_agg(q), '[]'::json) FROM (
          SELECT s.queryid::text AS queryid, r.rolname AS role, s.calls,
                 round(s.total_exec_time::numeric, 3)::float AS total_ms,
                 round(s.mean_exec_time::numeric, 3)::float AS mean_ms,
                 round(s.max_exec_time::numeric, 3)::float AS max_ms,
                 s.rows,
                 CASE WHEN s.shared_blks_hit + s.shared_blks_read > 0
                      THEN round(100.0 * s.shared_blks_hit / (s.shared_blks_hit + s.shared_blks_read), 1)::float END AS hit_percent,
                 left(regexp_replace(s.query, '\s+', ' ', 'g'), 300) AS query
          FROM pg_stat_statements s
          JOIN pg_database d ON d.oid = s.dbid
          LEFT JOIN pg_roles r ON r.oid = s.userid
          WHERE d.datname = %(db)s AND NOT coalesce(r.rolsuper, false)
          ORDER BY s.total_exec_time DESC
          LIMIT %(top)s) q) AS top,
       (SELECT count(*) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = %(db)s) AS statements,
       (SELECT CASE WHEN blks_hit + blks_read > 0 THEN round(100.0 * blks_hit / (blks_hit + blks_read), 2)::float END
          FROM pg_stat_database WHERE datname = %(db)s) AS cache_hit_percent,
       (SELECT stats_reset FROM pg_stat_statements_info)::text AS stats_since

-- The database's size, its dead rows, and its largest tables and indexes (name, kind, bytes).
-- (Run with named arguments: a literal percent sign is written %%.)
SELECT pg_database_size(current_database()) AS database_bytes,
       (SELECT coalesce(sum(n_dead_tup), 0)::bigint FROM pg_stat_user_tables) AS dead_rows,
       (SELECT coalesce(json_agg(r), '[]'::json) FROM (
          SELECT format('%%I.%%I', n.nspname, c.relname) AS name,
                 CASE c.relkind WHEN 'i' THEN 'index' WHEN 'm' THEN 'materialized view' ELSE 'table' END AS kind,
                 pg_relation_size(c.oid) AS bytes,
                 pg_total_relation_size(c.oid) AS total_bytes
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'm', 'i')
            AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
          ORDER BY pg_relation_size(c.oid) DESC, 1
          LIMIT %(top)s) r) AS relations

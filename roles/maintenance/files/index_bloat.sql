-- B-tree indexes of the current database with their estimated bloat: the pages the index has against
-- the pages its rows would need at its fillfactor (row count from pg_class.reltuples, key widths
-- from pg_stats, as the usual btree bloat estimates do; needs ANALYZE first). Indexes on
-- expressions or on columns without statistics are listed with a null estimate.
WITH idx AS (
  SELECT n.nspname AS schema_name, t.relname AS table_name, c.relname AS index_name, c.oid AS index_oid,
         i.indrelid, i.indkey::int2[] AS keys, c.reltuples, c.relpages,
         current_setting('block_size')::numeric AS bs,
         coalesce((regexp_match(array_to_string(c.reloptions, ' '), 'fillfactor=([0-9]+)'))[1]::int, 90) AS fillfactor
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_class t ON t.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_am am ON am.oid = c.relam
  WHERE am.amname = 'btree' AND c.relpages > 0
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
), width AS (
  SELECT idx.index_oid,
         sum((1 - coalesce(s.null_frac, 0)) * s.avg_width) AS data_width,
         bool_or(k.attnum <= 0 OR s.avg_width IS NULL) AS unknown
  FROM idx
  CROSS JOIN LATERAL unnest(idx.keys) AS k(attnum)
  LEFT JOIN pg_attribute a ON a.attrelid = idx.indrelid AND a.attnum = k.attnum AND k.attnum > 0
  LEFT JOIN pg_stats s ON s.schemaname = idx.schema_name AND s.tablename = idx.table_name AND s.attname = a.attname
  GROUP BY idx.index_oid
), est AS (
  SELECT idx.*, w.unknown,
         -- index tuple: 8-byte header + 4-byte line pointer + the key data rounded up to 8 bytes
         CASE WHEN w.unknown OR idx.reltuples < 0 THEN NULL ELSE
           1 + ceil(idx.reltuples / floor((idx.bs - 24 - 16) * idx.fillfactor / 100.0 / (12 + ceil(w.data_width / 8.0) * 8)))
         END AS expected_pages
  FROM idx JOIN width w ON w.index_oid = idx.index_oid
)
SELECT format('%I.%I', schema_name, index_name) AS index,
       format('%I.%I', schema_name, table_name) AS "table",
       pg_relation_size(index_oid) AS bytes,
       relpages::bigint AS pages,
       expected_pages::bigint AS expected_pages,
       CASE WHEN expected_pages IS NULL THEN NULL
            ELSE round((100.0 * greatest(relpages - expected_pages, 0) / relpages)::numeric, 1)::float END AS bloat_percent
FROM est
ORDER BY pg_relation_size(index_oid) DESC

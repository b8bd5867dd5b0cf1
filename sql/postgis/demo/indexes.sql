-- The indexes of the tables $1 (text[]) that back no constraint: the loader
-- drops them before the COPY and builds them again after, which is several
-- times faster than maintaining them row by row.
SELECT c.relname, pg_get_indexdef(c.oid)
FROM pg_index x
JOIN pg_class c ON c.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
WHERE t.relnamespace = current_schema()::regnamespace
  AND t.relname = ANY ($1::text[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
ORDER BY t.relname, c.relname

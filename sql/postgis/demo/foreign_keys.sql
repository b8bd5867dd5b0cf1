-- The foreign keys of the tables $1 (text[]): the loader drops them before
-- the COPY and adds them again after, so that each is checked by one join
-- instead of one trigger call per row.
SELECT t.relname, k.conname, pg_get_constraintdef(k.oid)
FROM pg_constraint k
JOIN pg_class t ON t.oid = k.conrelid
WHERE k.contype = 'f'
  AND t.relnamespace = current_schema()::regnamespace
  AND t.relname = ANY ($1::text[])
ORDER BY t.relname, k.conname

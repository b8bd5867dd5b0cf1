-- The size in 8 kB pages of table $1 as last measured (VACUUM, ANALYZE),
-- 0 if never: whether reading it in two halves is worth a second
-- connection.
SELECT GREATEST(COALESCE((SELECT relpages FROM pg_class WHERE oid = to_regclass($1::text)), 0), 0)::bigint

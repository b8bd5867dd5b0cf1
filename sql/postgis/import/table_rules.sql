-- The rules of a table that an INSERT would enforce on the staged rows:
-- NOT NULL columns with their defaults (kind 'n'), CHECK constraints ('c')
-- and UNIQUE constraints ('u'), each with the columns it involves. $1 is
-- the table, as a quoted identifier.
SELECT 'n' AS kind, a.attname AS name, pg_get_expr(d.adbin, d.adrelid) AS expr, ARRAY[a.attname::text] AS columns
FROM pg_attribute a
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
  AND a.attnotnull AND a.attgenerated = ''
UNION ALL
SELECT c.contype::text, c.conname::text, pg_get_expr(c.conbin, c.conrelid),
       ARRAY(SELECT a.attname::text FROM pg_attribute a
             WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) ORDER BY a.attnum)
FROM pg_constraint c
WHERE c.conrelid = $1::regclass AND c.contype IN ('c', 'u')
ORDER BY 1, 2;

-- Moves the identity sequence of table $1 past the ids the demo wrote
-- explicitly ($2 rows, ids 1..$2), so that later inserts do not collide.
SELECT setval(pg_get_serial_sequence($1, 'id'), GREATEST($2::bigint, 1), $2::bigint > 0)

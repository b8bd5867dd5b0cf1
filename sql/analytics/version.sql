-- The data version of one layer, bumped on every write (see layer_versions).
SELECT COALESCE((SELECT version FROM layer_versions WHERE layer = $1), 0)

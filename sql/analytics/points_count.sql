-- How many rows points.sql will return for the same box and filters, so
-- that a city-wide read allocates once (growing a slice of millions of
-- points cost more than reading them on the large demo).
SELECT count(*)
FROM {{table}} t
WHERE t.geom_m && ST_MakeEnvelope($1, $2, $3, $4, 4549)
      {{where}}

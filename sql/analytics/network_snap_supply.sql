-- Where the supply points $1 (ids in the catalogue table {{table}}) join
-- the road network (network_snap): edge, fraction along it, metres off it.
SELECT s.id, n.edge, n.fraction, n.offset_m
FROM {{table}} s
CROSS JOIN LATERAL network_snap(s.geom_m) n
WHERE s.id = ANY($1::bigint[])

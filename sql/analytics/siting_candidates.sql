-- Candidate sites for siting, within the EPSG:4549 box $3..$6:
--   $1 = 'roads':      points every at most $2 metres along every road edge
--                      (n = ceil(length / $2) points at (i + ½) / n), id
--                      edge id × 10000 + i;
--   $1 = 'road_nodes': the road junctions, id = node id;
--   $1 = 'grid_cells': a point inside each grid cell (ST_PointOnSurface),
--                      id = cell id.
-- Columns: id, lon, lat (EPSG:4326), x, y (EPSG:4549), road node or NULL.
SELECT r.id * 10000 + i, ST_X(ST_Transform(q.pm, 4326)), ST_Y(ST_Transform(q.pm, 4326)),
       ST_X(q.pm), ST_Y(q.pm), NULL::bigint
FROM roads r
CROSS JOIN LATERAL (SELECT GREATEST(1, ceil(ST_Length(r.geom_m) / $2))::int AS n) c
CROSS JOIN LATERAL generate_series(0, c.n - 1) AS i
CROSS JOIN LATERAL (SELECT ST_LineInterpolatePoint(r.geom_m, (i + 0.5) / c.n) AS pm) q
WHERE $1::text = 'roads' AND r.geom_m && ST_MakeEnvelope($3, $4, $5, $6, 4549)
UNION ALL
SELECT n.id, ST_X(n.geom), ST_Y(n.geom), ST_X(n.geom_m), ST_Y(n.geom_m), n.id
FROM road_nodes n
WHERE $1::text = 'road_nodes' AND n.geom_m && ST_MakeEnvelope($3, $4, $5, $6, 4549)
UNION ALL
SELECT g.id, ST_X(p.pt), ST_Y(p.pt), ST_X(ST_Transform(p.pt, 4549)), ST_Y(ST_Transform(p.pt, 4549)), NULL::bigint
FROM grid_cells g
CROSS JOIN LATERAL (SELECT ST_PointOnSurface(g.geom) AS pt) p
WHERE $1::text = 'grid_cells' AND ST_Transform(g.geom, 4549) && ST_MakeEnvelope($3, $4, $5, $6, 4549)
ORDER BY 1

-- Gap polygons of road-network coverage: each study grid cell ($5: the
-- cells holding demand) minus what the sources ($2 ids of the catalogue
-- table $1) reach within $3 seconds: the reached road pieces
-- (network_reach) buffered by $4 metres, unioned, cut into pieces of at
-- most 128 vertices so that each cell meets only a few. Returns the cell,
-- the gap as GeoJSON (EPSG:4326) and its area in m².
WITH served AS MATERIALIZED (
    SELECT ST_Subdivide(ST_UnaryUnion(ST_Collect(ARRAY(
               SELECT ST_Buffer((d).geom, $4, 2)
               FROM network_reach($1::text::regclass, $2::bigint[], ARRAY[$3::double precision]) r,
                    ST_Dump(r.pieces) d))), 128) AS g
),
cells AS MATERIALIZED (
    SELECT g.id, ST_Transform(g.geom, 4549) AS gm
    FROM grid_cells g
    WHERE g.id = ANY($5::bigint[])
)
SELECT c.id, ST_AsGeoJSON(ST_Transform(x.gap, 4326), 6), ST_Area(x.gap)
FROM cells c
CROSS JOIN LATERAL (
    SELECT COALESCE(ST_Difference(c.gm, ST_UnaryUnion(ST_Collect(s.g))), c.gm) AS gap
    FROM served s
    WHERE s.g && c.gm AND ST_Intersects(s.g, c.gm)
) x
WHERE NOT ST_IsEmpty(x.gap) AND ST_Area(x.gap) >= 1
ORDER BY c.id

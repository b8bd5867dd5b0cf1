-- Gap polygons of straight-line coverage: each study grid cell ($1: the
-- cells holding demand) minus the union of discs of radius $2 metres
-- around the supply: the rows of {{table}} passing {{where}} (the same
-- filters the coverage used, $n from $5), plus proposed sites ($3, $4: x,
-- y in EPSG:4549). Planar discs in EPSG:4549, 32-gons: within a few
-- millimetres of geodesic circles at these radii, and inside them by at
-- most 0.5% of the radius. Returns the cell, the gap as GeoJSON (EPSG:4326)
-- and its area in m².
-- MATERIALIZED: otherwise each reference to c.gm re-projects the cell.
WITH extra AS MATERIALIZED (
    SELECT ST_SetSRID(ST_MakePoint(u.x, u.y), 4549) AS p
    FROM unnest($3::double precision[], $4::double precision[]) AS u(x, y)
),
cells AS MATERIALIZED (
    SELECT g.id, ST_Transform(g.geom, 4549) AS gm
    FROM grid_cells g
    WHERE g.id = ANY($1::bigint[])
)
SELECT c.id, ST_AsGeoJSON(ST_Transform(x.gap, 4326), 6), ST_Area(x.gap)
FROM cells c
CROSS JOIN LATERAL (
    SELECT COALESCE(ST_Difference(c.gm, ST_UnaryUnion(ST_Collect(ST_Buffer(s.p, $2, 8)))), c.gm) AS gap
    FROM (
        SELECT t.geom_m AS p FROM {{table}} t
        WHERE ST_DWithin(t.geom_m, c.gm, $2) {{where}}
        UNION ALL
        SELECT e.p FROM extra e WHERE ST_DWithin(e.p, c.gm, $2)
    ) s
) x
WHERE NOT ST_IsEmpty(x.gap) AND ST_Area(x.gap) >= 1
ORDER BY c.id

-- Service-area polygons: what each source (ids $2 of the catalogue table
-- $1, also {{table}}) reaches on the road network within each break ($3
-- seconds), nodes going to the source that reaches them first (first-due
-- districts), reached edges in part (network_reach); the polygon buffers
-- the reached pieces by $4 metres. {{name}} the table's name column or NULL.
SELECT r.source, r.break, {{name}}::text,
       ST_AsGeoJSON(ST_Transform(a.g, 4326), 6), ST_Area(a.g)
FROM network_reach($1::text::regclass, $2::bigint[], $3::double precision[]) r
CROSS JOIN LATERAL (
    SELECT ST_UnaryUnion(ST_Collect(ARRAY(
               SELECT ST_Buffer((d).geom, $4, 2) FROM ST_Dump(r.pieces) d))) AS g
) a
JOIN {{table}} t ON t.id = r.source
ORDER BY r.source, r.break

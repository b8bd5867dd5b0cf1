-- One layer of a vector tile: its features clipped to the tile with a buffer.
-- $1, $2, $3 are z, x, y. Placeholders, filled from the catalogue only:
--   {{layer}}      the MVT layer name (a quoted literal)
--   {{table}}      the table (a quoted identifier)
--   {{geom}}       the geometry expression in EPSG:3857, e.g. simplified for lines and polygons
--   {{attributes}} ", col AS name" for every attribute (may be empty)
--   {{where}}      " AND ..." filters with their own $n parameters (may be empty)
--   {{joins}}      joins that bring computed attributes (area statistics; may be empty)
--   {{buffer}} {{extent}} {{cap}}   integers
-- Returns the layer's MVT bytes (empty when no feature) and whether more than
-- {{cap}} features matched (the tile then carries the first {{cap}} by id).
SELECT COALESCE(ST_AsMVT(q.f, {{layer}}, {{extent}}, 'geom', 'id') FILTER (WHERE q.n <= {{cap}}), ''::bytea),
       count(*) > {{cap}}
FROM (
    SELECT row_number() OVER (ORDER BY f.id) AS n, f
    FROM (
        SELECT t.id, ST_AsMVTGeom({{geom}}, ST_TileEnvelope($1, $2, $3), {{extent}}, {{buffer}}, true) AS geom
               {{attributes}}
        FROM {{table}} t
        {{joins}}
        WHERE t.geom_3857 && ST_TileEnvelope($1, $2, $3, margin => {{buffer}}.0 / {{extent}})
              {{where}}
        ORDER BY t.id
        LIMIT {{cap}} + 1
    ) f
    WHERE f.geom IS NOT NULL
) q

-- One point layer of a vector tile as clusters: points grouped on a grid of
-- {{cells}} x {{cells}} cells per tile, anchored at the world's origin so that
-- a cluster is the same in every tile that shows it. Each cluster carries
-- count, the most common value of each ClusterBy column, and bbox
-- ("minLon,minLat,maxLon,maxLat", EPSG:4326) to zoom to.
-- $1, $2, $3 are z, x, y; placeholders as in features.sql, plus
--   {{dominant}}   ", mode() WITHIN GROUP (ORDER BY t.col) AS col" per ClusterBy column
-- The feature id is the cell's index on the world grid at this zoom.
SELECT COALESCE(ST_AsMVT(q.f, {{layer}}, {{extent}}, 'geom', 'id') FILTER (WHERE q.n <= {{cap}}), ''::bytea),
       count(*) > {{cap}}
FROM (
    SELECT row_number() OVER (ORDER BY f.id) AS n, f
    FROM (
        SELECT (c.gx * (1::bigint << ($1 + 6)) + c.gy) AS id,
               ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(avg(ST_X(t.geom_3857)), avg(ST_Y(t.geom_3857))), 3857),
                            ST_TileEnvelope($1, $2, $3), {{extent}}, {{buffer}}, true) AS geom,
               count(*)::integer AS count,
               true AS cluster,
               concat_ws(',', round(min(ST_X(t.geom))::numeric, 6), round(min(ST_Y(t.geom))::numeric, 6),
                              round(max(ST_X(t.geom))::numeric, 6), round(max(ST_Y(t.geom))::numeric, 6)) AS bbox
               {{dominant}}
        FROM {{table}} t
        CROSS JOIN LATERAL (
            SELECT floor((ST_X(t.geom_3857) + 20037508.342789244) / (40075016.68557849 / (1::bigint << $1) / {{cells}}))::bigint AS gx,
                   floor((20037508.342789244 - ST_Y(t.geom_3857)) / (40075016.68557849 / (1::bigint << $1) / {{cells}}))::bigint AS gy
        ) c
        -- Whole cells around the tile, so a cluster on the edge counts all its
        -- points here as in the neighbouring tile; ST_AsMVTGeom drops the
        -- clusters whose centre lies beyond the buffer.
        WHERE t.geom_3857 && ST_TileEnvelope($1, $2, $3, margin => 1.0 / {{cells}})
              {{where}}
        GROUP BY c.gx, c.gy
        ORDER BY 1
        LIMIT {{cap}} + 1
    ) f
    WHERE f.geom IS NOT NULL
) q

-- One polygon layer of a vector tile made from the pre-cut pieces of its
-- polygons (polygon_pieces, migration 00007) that touch the tile: a tile much
-- smaller than a detailed polygon reads a few pieces of at most 256 vertices,
-- not the whole boundary. Each feature's pieces are joined back (ST_Union),
-- so the tile carries one valid polygon per feature, identical to
-- features.sql's inside the buffered tile. Placeholders and result as in
-- features.sql; {{geom}} reads the joined pieces (alias p).
SELECT COALESCE(ST_AsMVT(q.f, {{layer}}, {{extent}}, 'geom', 'id') FILTER (WHERE q.n <= {{cap}}), ''::bytea),
       count(*) > {{cap}}
FROM (
    SELECT row_number() OVER (ORDER BY f.id) AS n, f
    FROM (
        SELECT t.id, ST_AsMVTGeom({{geom}}, ST_TileEnvelope($1, $2, $3), {{extent}}, {{buffer}}, true) AS geom
               {{attributes}}
        FROM (
            SELECT pc.id, ST_Union(pc.geom_3857) AS geom_3857
            FROM polygon_pieces pc
            WHERE pc.layer = {{layer}}
              AND pc.geom_3857 && ST_TileEnvelope($1, $2, $3, margin => {{buffer}}.0 / {{extent}})
            GROUP BY pc.id
        ) p
        JOIN {{table}} t ON t.id = p.id
        {{joins}}
        WHERE true {{where}}
        ORDER BY t.id
        LIMIT {{cap}} + 1
    ) f
    WHERE f.geom IS NOT NULL
) q

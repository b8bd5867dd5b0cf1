-- The points of a catalogue point layer in EPSG:4549 metres, with a weight,
-- within a metric box (all of them for a box around the world).
-- $1..$4: minX, minY, maxX, maxY (EPSG:4549).
-- {{table}} the table, {{weight}} a catalogue weight expression or 1,
-- {{where}} filter conditions with their own $n (from $5).
SELECT ST_X(t.geom_m), ST_Y(t.geom_m), ({{weight}})::double precision
FROM {{table}} t
WHERE t.geom_m && ST_MakeEnvelope($1, $2, $3, $4, 4549)
      {{where}}

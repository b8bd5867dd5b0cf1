-- The demand of a coverage preset from a catalogue point layer: id,
-- lon/lat (EPSG:4326, as stored), x/y (EPSG:4549 metres), grid cell (0 if
-- none), weight.
-- {{table}} the table, {{weight}} a catalogue weight expression or 1,
-- {{where}} filter conditions with their own $n (from $1).
SELECT t.id, ST_X(t.geom), ST_Y(t.geom), ST_X(t.geom_m), ST_Y(t.geom_m),
       COALESCE(t.grid_cell_id, 0), ({{weight}})::double precision
FROM {{table}} t
WHERE true {{where}}
ORDER BY t.id

-- The supply of a coverage preset: id, lon/lat (EPSG:4326), x/y
-- (EPSG:4549), name, capacity, site area and class. {{table}}, {{name}},
-- {{capacity}}, {{area}} and {{class}} come from the catalogue (NULL when the preset has
-- none); {{where}} filter conditions with their own $n (from $1).
SELECT t.id, ST_X(t.geom), ST_Y(t.geom), ST_X(t.geom_m), ST_Y(t.geom_m),
       {{name}}::text, ({{capacity}})::double precision, ({{area}})::double precision, {{class}}::text
FROM {{table}} t
WHERE true {{where}}
ORDER BY t.id

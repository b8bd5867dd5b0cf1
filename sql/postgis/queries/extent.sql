-- The extent (EPSG:4326) of one catalogue layer's data; NULLs when empty.
-- {{table}} is replaced by the catalogue's table name, quoted; never by input.
SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
FROM (SELECT ST_Extent(geom) AS e FROM {{table}}) s

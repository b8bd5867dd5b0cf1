-- One catalogue table's row count and extent (EPSG:4326; NULLs when empty).
-- {{table}} is replaced by the catalogue's table name, quoted; never by input.
SELECT n, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
FROM (SELECT count(*)::bigint AS n, ST_Extent(geom) AS e FROM {{table}}) s

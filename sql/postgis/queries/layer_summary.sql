-- One catalogue layer's size, extent (EPSG:4326) and data version.
-- {{table}} is replaced by the catalogue's table name, quoted; never by input.
SELECT n, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e),
       COALESCE((SELECT version FROM layer_versions WHERE layer = $1), 0)
FROM (SELECT count(*)::bigint AS n, ST_Extent(geom) AS e FROM {{table}}) s

-- The EPSG:4549 box of the territory (the towns), or NULLs without towns.
SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)
FROM (SELECT ST_Extent(ST_Transform(geom, 4549))::geometry AS b FROM towns) e

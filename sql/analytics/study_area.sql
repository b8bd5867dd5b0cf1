-- The hexagons (edge $1 metres, EPSG:4549, numbered i, j as ST_HexagonGrid
-- numbers them) whose centre lies in a town: the study area of hot spots.
WITH land AS (SELECT ST_Transform(geom, 4549) AS g FROM towns),
     box AS (SELECT ST_SetSRID(ST_Extent(g)::geometry, 4549) AS b FROM land)
SELECT h.i, h.j
FROM box, ST_HexagonGrid($1, box.b) h
WHERE EXISTS (SELECT 1 FROM land WHERE ST_Intersects(land.g, ST_Centroid(h.geom)))
ORDER BY h.i, h.j

-- Residents of each hexagon (edge $5 m, EPSG:4549, ST_HexagonGrid's i, j)
-- meeting the box $1..$4: each grid cell's population spread evenly over its
-- area (areal weighting), so the hexagons of a cell share its residents.
WITH hex AS (
    SELECT h.i, h.j, h.geom
    FROM ST_HexagonGrid($5, ST_MakeEnvelope($1, $2, $3, $4, 4549)) h
),
cells AS (
    SELECT g.population, ST_Transform(g.geom, 4549) AS gm
    FROM grid_cells g
    WHERE g.population > 0
      AND g.geom && ST_Transform(ST_Expand(ST_MakeEnvelope($1, $2, $3, $4, 4549), 2 * $5), 4326)
)
SELECT hex.i, hex.j, sum(cells.population * ST_Area(ST_Intersection(hex.geom, cells.gm)) / ST_Area(cells.gm))
FROM hex JOIN cells ON ST_Intersects(hex.geom, cells.gm)
GROUP BY hex.i, hex.j

-- Residents of each hexagon (edge $5 m, EPSG:4549, ST_HexagonGrid's i, j)
-- meeting the box $1..$4: each grid cell's population spread evenly over its
-- area (areal weighting), so the hexagons of a cell share its residents.
-- Hexagons are generated per grid cell, over the cell's own extent (the
-- grid is anchored at the origin, so i, j agree across cells): the work
-- grows with the cells' area, not with the box times the number of cells.
WITH cells AS (
    SELECT g.population, ST_Transform(g.geom, 4549) AS gm
    FROM grid_cells g
    WHERE g.population > 0
      AND g.geom && ST_Transform(ST_Expand(ST_MakeEnvelope($1, $2, $3, $4, 4549), 2 * $5), 4326)
)
SELECT h.i, h.j, sum(c.population * ST_Area(ST_Intersection(h.geom, c.gm)) / ST_Area(c.gm))
FROM cells c
CROSS JOIN LATERAL ST_HexagonGrid($5, c.gm) h
WHERE ST_Intersects(h.geom, ST_MakeEnvelope($1, $2, $3, $4, 4549))
  AND ST_Intersects(h.geom, c.gm)
GROUP BY h.i, h.j

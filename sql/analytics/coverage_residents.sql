-- Residents as coverage demand: each grid cell's population spread evenly
-- over its residential premises (kinds $1), or, in a cell with none, placed
-- at a point inside the cell (ST_PointOnSurface; id = -cell id). Columns as
-- coverage_demand.sql, the weight being residents.
WITH homes AS (
    SELECT p.id, p.geom, p.geom_m, p.grid_cell_id,
           count(*) OVER (PARTITION BY p.grid_cell_id) AS n
    FROM premises p
    WHERE p.kind = ANY($1::text[]) AND p.grid_cell_id IS NOT NULL
)
SELECT h.id, ST_X(h.geom), ST_Y(h.geom), ST_X(h.geom_m), ST_Y(h.geom_m),
       h.grid_cell_id, g.population::double precision / h.n
FROM homes h
JOIN grid_cells g ON g.id = h.grid_cell_id
WHERE g.population > 0
UNION ALL
SELECT -g.id, ST_X(s.pt), ST_Y(s.pt), ST_X(ST_Transform(s.pt, 4549)), ST_Y(ST_Transform(s.pt, 4549)),
       g.id, g.population::double precision
FROM grid_cells g
CROSS JOIN LATERAL (SELECT ST_PointOnSurface(g.geom) AS pt) s
WHERE g.population > 0
  AND NOT EXISTS (SELECT 1 FROM premises p WHERE p.grid_cell_id = g.id AND p.kind = ANY($1::text[]))
ORDER BY 1

-- The grid cell of each staged row: the cell whose polygon covers it (the
-- lowest id where cells share an edge, so that the answer is stable and a
-- re-import changes nothing), or NULL outside the grid.
UPDATE import_rows r
SET grid_cell_id = (
    SELECT g.id FROM grid_cells g
    WHERE ST_Covers(g.geom, r.geom)
    ORDER BY g.id
    LIMIT 1)
WHERE r._reject_reason IS NULL;

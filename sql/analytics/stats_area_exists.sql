-- Whether area $2 of level $1 ('town', 'community' or 'grid_cell') exists.
SELECT CASE $1::text
    WHEN 'town' THEN EXISTS (SELECT 1 FROM towns WHERE id = $2::bigint)
    WHEN 'community' THEN EXISTS (SELECT 1 FROM communities WHERE id = $2::bigint)
    WHEN 'grid_cell' THEN EXISTS (SELECT 1 FROM grid_cells WHERE id = $2::bigint)
    ELSE false
END

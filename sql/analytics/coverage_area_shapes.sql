-- The outlines of areas $2 of level $1 (town, community or grid_cell) as
-- GeoJSON (EPSG:4326), simplified to about 5 m for download and display.
SELECT a.id, ST_AsGeoJSON(ST_SimplifyPreserveTopology(a.geom, 0.00005), 6)
FROM (
    SELECT id, geom FROM towns WHERE $1::text = 'town'
    UNION ALL
    SELECT id, geom FROM communities WHERE $1::text = 'community'
    UNION ALL
    SELECT id, geom FROM grid_cells WHERE $1::text = 'grid_cell'
) a
WHERE a.id = ANY($2::bigint[])

-- Fresh planner statistics for the freshly loaded tables.
ANALYZE towns, communities, grid_cells, premises, hydrants, shelters, fire_stations,
    hazards, inspections, roads, road_nodes
;
-- The area statistics of the tiles (migration 00003), for the new data.
REFRESH MATERIALIZED VIEW area_stats

-- Empties every layer table for a fresh demo city. CASCADE also empties any
-- table that references them; RESTART IDENTITY starts ids again at 1.
TRUNCATE towns, communities, grid_cells, premises, hydrants, shelters, fire_stations,
    hazards, inspections, roads, road_nodes RESTART IDENTITY CASCADE

-- +goose Up
-- Per-area statistics read hazards by grid cell and only these columns: a
-- covering index lets them scan the index alone (measured on the large demo:
-- the hazard aggregation for all grid cells fell from ~1.1 s to ~0.6 s).
CREATE INDEX hazards_grid_cell_covering ON hazards (grid_cell_id)
    INCLUDE (status, listed, reported_at, closed_at, deadline);
DROP INDEX IF EXISTS hazards_grid_cell_id;

-- +goose Down
CREATE INDEX IF NOT EXISTS hazards_grid_cell_id ON hazards (grid_cell_id);
DROP INDEX IF EXISTS hazards_grid_cell_covering;

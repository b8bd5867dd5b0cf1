-- +goose Up
-- Grid statistics count premises by grid cell and kind, reading only these
-- columns: a covering index in that order lets PostgreSQL scan the index
-- alone and aggregate it in order, without hashing (measured on the large
-- demo, 1M premises, one worker: 1.45 s → 0.61 s). It replaces the plain
-- grid_cell_id index, which it also serves.
CREATE INDEX premises_grid_cell_covering ON premises (grid_cell_id, kind)
    INCLUDE (tag, last_inspected_at);
DROP INDEX IF EXISTS premises_grid_cell_id;

-- +goose Down
CREATE INDEX IF NOT EXISTS premises_grid_cell_id ON premises (grid_cell_id);
DROP INDEX IF EXISTS premises_grid_cell_covering;

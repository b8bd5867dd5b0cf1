-- +goose Up
-- A per-layer data version, bumped by a statement trigger on every write, and
-- announced on the onemap_layer_changed channel so that caches (tiles,
-- analytics) drop what they computed from an older version.
CREATE TABLE layer_versions (
    layer      text PRIMARY KEY,
    version    bigint NOT NULL DEFAULT 0,
    changed_at timestamptz NOT NULL DEFAULT now()
);

-- +goose StatementBegin
CREATE FUNCTION bump_layer_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO layer_versions AS v (layer, version, changed_at)
    VALUES (TG_TABLE_NAME, 1, now())
    ON CONFLICT (layer) DO UPDATE SET version = v.version + 1, changed_at = now();
    PERFORM pg_notify('onemap_layer_changed', TG_TABLE_NAME);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['towns', 'communities', 'grid_cells', 'premises', 'hydrants',
                             'shelters', 'fire_stations', 'hazards', 'inspections', 'roads']
    LOOP
        INSERT INTO layer_versions (layer) VALUES (t);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION bump_layer_version()', t || '_version', t);
    END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE IF EXISTS layer_versions;
DROP FUNCTION IF EXISTS bump_layer_version() CASCADE;

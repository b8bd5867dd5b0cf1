-- +goose Up
-- Large polygons cut into pieces of at most 256 vertices (ST_Subdivide) in
-- EPSG:3857. From a layer's PiecesFrom zoom (geo/catalogue.go) a tile reads
-- and joins only the pieces it touches instead of detoasting and clipping the
-- whole boundary, so its cost stops growing with the polygon's detail (a
-- surveyed town boundary has tens of thousands of vertices). Kept in step
-- with the layer tables by the triggers below; never written by hand.
CREATE TABLE polygon_pieces (
    layer     text   NOT NULL,
    id        bigint NOT NULL,
    geom_3857 geometry(Polygon, 3857) NOT NULL
);
CREATE INDEX polygon_pieces_geom ON polygon_pieces USING gist (geom_3857);
CREATE INDEX polygon_pieces_feature ON polygon_pieces (layer, id);

-- +goose StatementBegin
CREATE FUNCTION polygon_pieces_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM polygon_pieces WHERE layer = TG_TABLE_NAME;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM polygon_pieces WHERE layer = TG_TABLE_NAME AND id = OLD.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO polygon_pieces (layer, id, geom_3857)
        SELECT TG_TABLE_NAME, NEW.id, d.geom
        FROM ST_Subdivide(NEW.geom_3857, 256) AS s(geom), LATERAL ST_Dump(s.geom) AS d
        WHERE GeometryType(d.geom) = 'POLYGON';
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
    -- The polygon layers whose tiles use pieces from some zoom on.
    FOREACH t IN ARRAY ARRAY['towns', 'communities']
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OF geom OR DELETE ON %I
                        FOR EACH ROW EXECUTE FUNCTION polygon_pieces_sync()', t || '_pieces', t);
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION polygon_pieces_sync()', t || '_pieces_truncate', t);
        EXECUTE format('INSERT INTO polygon_pieces (layer, id, geom_3857)
                        SELECT %L, t.id, d.geom
                        FROM %I t, ST_Subdivide(t.geom_3857, 256) AS s(geom), LATERAL ST_Dump(s.geom) AS d
                        WHERE GeometryType(d.geom) = %L', t, t, 'POLYGON');
    END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE IF EXISTS polygon_pieces;
DROP FUNCTION IF EXISTS polygon_pieces_sync() CASCADE;

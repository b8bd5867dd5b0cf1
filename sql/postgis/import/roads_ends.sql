-- The end points of the imported roads whose topology must be (re)built:
-- those inserted or changed, and those without source or target. Points are
-- snapped to 1e-7° (about 1 cm) so that lines drawn to "the same" point in a
-- GIS meet at one node.
CREATE TEMP TABLE import_ends ON COMMIT DROP AS
SELECT r.id AS road, e.side, ST_X(e.p) AS x, ST_Y(e.p) AS y, NULL::bigint AS node
FROM roads r
JOIN import_rows s ON s.ext_id = r.ext_id AND s._reject_reason IS NULL
CROSS JOIN LATERAL (VALUES
    ('source', ST_SnapToGrid(ST_StartPoint(r.geom), 1e-7)),
    ('target', ST_SnapToGrid(ST_EndPoint(r.geom), 1e-7))) AS e(side, p)
WHERE r.id IN (SELECT id FROM import_changed) OR r.source IS NULL OR r.target IS NULL;

-- The nodes the imported roads hang on before the upsert, so that those no
-- road uses any more can be dropped once the topology is rebuilt.
CREATE TEMP TABLE import_old_nodes ON COMMIT DROP AS
SELECT DISTINCT n.id
FROM roads r
JOIN import_rows s ON s.ext_id = r.ext_id AND s._reject_reason IS NULL
CROSS JOIN LATERAL (VALUES (r.source), (r.target)) AS n(id)
WHERE n.id IS NOT NULL;

-- The routing topology of the roads in import_ends: pgRouting's source and
-- target node ids, reusing a node already at an end point, else creating one.

-- road_nodes.id has no default: new ids are max(id) + n, so no other writer
-- may add nodes until this transaction ends.
LOCK TABLE road_nodes IN SHARE ROW EXCLUSIVE MODE;

UPDATE import_ends e
SET node = (
    SELECT n.id FROM road_nodes n
    WHERE ST_DWithin(n.geom, ST_SetSRID(ST_MakePoint(e.x, e.y), 4326), 1e-7)
    ORDER BY n.geom <-> ST_SetSRID(ST_MakePoint(e.x, e.y), 4326), n.id
    LIMIT 1);

WITH points AS (
    SELECT DISTINCT x, y FROM import_ends WHERE node IS NULL
), base AS (
    SELECT COALESCE(max(id), 0) AS id FROM road_nodes
), created AS (
    INSERT INTO road_nodes (id, geom)
    SELECT base.id + row_number() OVER (ORDER BY p.x, p.y), ST_SetSRID(ST_MakePoint(p.x, p.y), 4326)
    FROM points p, base
    RETURNING id, ST_X(geom) AS x, ST_Y(geom) AS y
)
UPDATE import_ends e SET node = c.id
FROM created c
WHERE e.node IS NULL AND e.x = c.x AND e.y = c.y;

UPDATE roads r SET source = s.node, target = t.node
FROM import_ends s
JOIN import_ends t ON t.road = s.road AND t.side = 'target'
WHERE s.side = 'source' AND r.id = s.road
  AND (r.source, r.target) IS DISTINCT FROM (s.node, t.node);

-- Nodes the imported roads left behind that no road uses any more.
DELETE FROM road_nodes n
USING import_old_nodes o
WHERE n.id = o.id
  AND NOT EXISTS (SELECT 1 FROM roads r WHERE r.source = n.id OR r.target = n.id);

-- The areas of one level of the grid hierarchy, in code order: id, code,
-- name, parent id (NULL for towns), population, households, and the
-- bounding box of the boundary (min lon, min lat, max lon, max lat; box3d
-- is computed from the vertices in double precision).
-- $1 the level: 'town', 'community', 'grid_cell' or 'city' (one area, id 0);
-- $2 only areas in this town, $3 only areas in this community (NULL: any).
SELECT id, code, name, parent_id, population, households,
       ST_XMin(a.geom::box3d), ST_YMin(a.geom::box3d), ST_XMax(a.geom::box3d), ST_YMax(a.geom::box3d)
FROM (
    SELECT t.id, t.code, t.name, NULL::bigint AS parent_id,
           t.id AS town_id, NULL::bigint AS community_id, t.population, t.households, t.geom
    FROM towns t
    WHERE $1::text = 'town'
    UNION ALL
    SELECT c.id, c.code, c.name, c.town_id, c.town_id, c.id, c.population, c.households, c.geom
    FROM communities c
    WHERE $1::text = 'community'
    UNION ALL
    SELECT g.id, g.code, g.name, g.community_id, c.town_id, g.community_id, g.population, g.households, g.geom
    FROM grid_cells g
    JOIN communities c ON c.id = g.community_id
    WHERE $1::text = 'grid_cell'
    UNION ALL
    -- The whole city: id 0, its towns together (a population only when
    -- every town has one).
    SELECT 0, 'city', '全市', NULL, NULL, NULL,
           CASE WHEN count(t.population) = count(*) THEN sum(t.population) END,
           CASE WHEN count(t.households) = count(*) THEN sum(t.households) END,
           ST_Collect(t.geom)
    FROM towns t
    WHERE $1::text = 'city'
    HAVING count(*) > 0
) a
WHERE ($2::bigint IS NULL OR a.town_id = $2)
  AND ($3::bigint IS NULL OR a.community_id = $3)
ORDER BY a.code, a.id

-- The grid cells with their community and town: how the statistics of
-- cells roll up the hierarchy. $1 only those in this town, $2 only those in
-- this community (NULL: any).
SELECT g.id, g.community_id, c.town_id
FROM grid_cells g
JOIN communities c ON c.id = g.community_id
WHERE ($1::bigint IS NULL OR c.town_id = $1)
  AND ($2::bigint IS NULL OR c.id = $2)

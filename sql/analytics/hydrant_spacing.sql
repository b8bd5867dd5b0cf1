-- Hydrant spacing along roads (GB 50974-2014: at most $1 m apart) and on
-- both sides of roads wider than $2 m.
-- $1 max spacing (m), $2 wide-road width (m), $3 reach beyond the kerb (m),
-- $4 in-service hydrants only (bool), $5..$8 minLon, minLat, maxLon, maxLat
-- of a box (EPSG:4326; all NULL for no box).
--
-- Roads: the rows sharing a name are merged (ST_LineMerge of their union);
-- each part of the merge is a line of its own, and each unnamed row is a
-- line alone. Every line is oriented to run west to east, or south to north
-- where it runs more north-south than east-west, so that "left" is its
-- north (west) side. A named road is taken whole when any row of it meets
-- the box, so that the box never cuts a gap short.
--
-- Hydrants: each belongs to the road row nearest to it among the rows
-- within width_m/2 + $3 of it (ties by row id), hence to that row's line,
-- at the position along the line where ST_LineLocatePoint puts it. On a
-- wide line its side is the sign of the cross product of the line's local
-- direction (over 1 m around that position) with the way to the hydrant;
-- a hydrant on the centreline counts as left.
--
-- Found (positions in metres along the line, 1 mm of slack for rounding):
--   spacing   consecutive hydrants of a line more than $1 apart;
--   one_side  on a line wider than $2 (its widest row) with any hydrant:
--             consecutive hydrants of one side more than $1 apart, the
--             line's first and last hydrants (whichever side) bounding
--             the side's sequence at the ends; or the whole line, for a
--             side with no hydrant at all.
-- A line without any hydrant gives nothing: the coverage gaps find it.
-- Only stretches meeting the box are returned: line by line (by name in
-- byte order, unnamed rows first, by id), along each line.
WITH box AS (
    SELECT CASE WHEN $5::float8 IS NULL THEN NULL
                ELSE ST_MakeEnvelope($5::float8, $6::float8, $7::float8, $8::float8, 4326) END AS g
),
named AS (
    SELECT DISTINCT r.name FROM roads r, box WHERE r.name IS NOT NULL AND r.geom && box.g
),
picked AS (
    SELECT r.id, r.name, coalesce(r.name, '') AS gname, CASE WHEN r.name IS NULL THEN r.id ELSE 0 END AS solo,
           coalesce(r.width_m, 0) AS width, r.geom_m
    FROM roads r, box
    WHERE box.g IS NULL
       OR (r.name IS NULL AND r.geom && box.g)
       OR r.name IN (SELECT name FROM named)
),
parts AS (
    SELECT m.name, m.gname, m.solo, d.geom,
           ST_X(ST_EndPoint(d.geom)) - ST_X(ST_StartPoint(d.geom)) AS dx,
           ST_Y(ST_EndPoint(d.geom)) - ST_Y(ST_StartPoint(d.geom)) AS dy
    FROM (SELECT gname, solo, min(name) AS name, ST_LineMerge(ST_Union(geom_m ORDER BY id)) AS geom
          FROM picked GROUP BY gname, solo) m,
         ST_Dump(m.geom) d
    WHERE ST_GeometryType(d.geom) = 'ST_LineString' AND ST_Length(d.geom) > 0
),
lines AS (
    SELECT row_number() OVER (ORDER BY gname COLLATE "C", solo, ST_X(ST_StartPoint(geom)), ST_Y(ST_StartPoint(geom)), ST_Length(geom)) AS line,
           name, gname, solo, geom, ST_Length(geom) AS len
    FROM (SELECT name, gname, solo,
                 CASE WHEN (abs(dx) >= abs(dy) AND dx < 0) OR (abs(dx) < abs(dy) AND dy < 0)
                      THEN ST_Reverse(geom) ELSE geom END AS geom
          FROM parts) oriented
),
-- Each road row on the line holding its midpoint, with where its ends lie
-- along the line (a, b).
road_lines AS (
    SELECT DISTINCT ON (p.id) p.id AS road, l.line, p.width,
           ST_LineLocatePoint(l.geom, ST_StartPoint(p.geom_m)) * l.len AS a,
           ST_LineLocatePoint(l.geom, ST_EndPoint(p.geom_m)) * l.len AS b
    FROM picked p
    JOIN lines l ON l.gname = p.gname AND l.solo = p.solo
    ORDER BY p.id, ST_Distance(l.geom, ST_LineInterpolatePoint(p.geom_m, 0.5)), l.line
),
line_width AS (
    SELECT line, max(width) AS width FROM road_lines GROUP BY line
),
-- The farthest a hydrant can be from a road row it belongs to, for the index.
reach AS (
    SELECT coalesce(max(width_m), 0) / 2 + $3::float8 AS m FROM roads
),
area AS (
    SELECT ST_SetSRID(ST_Expand(ST_Extent(p.geom_m), reach.m)::geometry, 4549) AS g
    FROM picked p, reach
    GROUP BY reach.m
),
nearest AS MATERIALIZED (
    SELECT h.id AS hydrant, h.geom_m, n.road
    FROM hydrants h
    CROSS JOIN reach
    CROSS JOIN area
    CROSS JOIN LATERAL (
        SELECT r.id AS road
        FROM roads r
        WHERE r.geom_m && ST_Expand(h.geom_m, reach.m)
          AND ST_DWithin(r.geom_m, h.geom_m, coalesce(r.width_m, 0) / 2 + $3::float8)
        ORDER BY r.geom_m <-> h.geom_m, r.id
        LIMIT 1
    ) n
    WHERE (NOT $4::bool OR h.status = 'in_service')
      AND h.geom_m && area.g
),
located AS (
    SELECT rl.line, n.hydrant, n.geom_m AS h, lw.width, l.len, l.geom AS lg,
           ST_LineLocatePoint(l.geom, n.geom_m) AS f
    FROM nearest n
    JOIN road_lines rl ON rl.road = n.road
    JOIN lines l ON l.line = rl.line
    JOIN line_width lw ON lw.line = rl.line
),
sided AS (
    SELECT line, hydrant, f * len AS pos, width,
           CASE WHEN width <= $2::float8 THEN ''
                WHEN (ST_X(ST_EndPoint(s)) - ST_X(ST_StartPoint(s))) * (ST_Y(h) - ST_Y(ST_StartPoint(s)))
                   - (ST_Y(ST_EndPoint(s)) - ST_Y(ST_StartPoint(s))) * (ST_X(h) - ST_X(ST_StartPoint(s))) >= 0
                THEN 'left' ELSE 'right' END AS side
    FROM located,
         LATERAL ST_LineSubstring(lg, greatest(f - 0.5 / len, 0), least(f + 0.5 / len, 1)) s
),
seq AS (
    SELECT line, hydrant, pos, side, width,
           lead(hydrant) OVER w AS next_hydrant, lead(pos) OVER w AS next_pos,
           row_number() OVER w AS k, count(*) OVER (PARTITION BY line) AS n
    FROM sided
    WINDOW w AS (PARTITION BY line ORDER BY pos, hydrant)
),
wide AS (
    SELECT DISTINCT s.line, v.side
    FROM seq s, (VALUES ('left'), ('right')) v (side)
    WHERE s.width > $2::float8
),
side_seq AS (
    SELECT w.line, w.side, s.hydrant, s.pos,
           lead(s.hydrant) OVER v AS next_hydrant, lead(s.pos) OVER v AS next_pos
    FROM wide w
    JOIN seq s ON s.line = w.line AND (s.side = w.side OR s.k = 1 OR s.k = s.n)
    WHERE EXISTS (SELECT 1 FROM seq o WHERE o.line = w.line AND o.side = w.side)
    WINDOW v AS (PARTITION BY w.line, w.side ORDER BY s.pos, s.hydrant)
),
found AS (
    SELECT row_number() OVER () AS stretch, * FROM (
    SELECT 'spacing' AS kind, line, '' AS side, hydrant AS from_hydrant, next_hydrant AS to_hydrant,
           pos AS from_pos, next_pos AS to_pos
    FROM seq
    WHERE next_pos - pos > $1::float8 + 0.001
    UNION ALL
    SELECT 'one_side', line, side, hydrant, next_hydrant, pos, next_pos
    FROM side_seq
    WHERE next_pos - pos > $1::float8 + 0.001
    UNION ALL
    SELECT 'one_side', w.line, w.side, NULL, NULL, 0, l.len
    FROM wide w
    JOIN lines l ON l.line = w.line
    WHERE NOT EXISTS (SELECT 1 FROM seq o WHERE o.line = w.line AND o.side = w.side)
    ) stretches
),
-- The road rows each stretch runs along (more than 1 mm of).
stretch_roads AS (
    SELECT f.stretch, f.kind, f.line, f.side, f.from_pos, f.to_pos, f.from_hydrant, f.to_hydrant,
           array_agg(rl.road ORDER BY least(rl.a, rl.b), rl.road) FILTER (WHERE rl.road IS NOT NULL) AS roads
    FROM found f
    LEFT JOIN road_lines rl
           ON rl.line = f.line AND greatest(rl.a, rl.b) > f.from_pos + 0.001 AND least(rl.a, rl.b) < f.to_pos - 0.001
    GROUP BY f.stretch, f.kind, f.line, f.side, f.from_pos, f.to_pos, f.from_hydrant, f.to_hydrant
)
SELECT f.kind, coalesce(l.name, ''), coalesce(f.roads, '{}'),
       f.side, lw.width, f.from_pos, f.to_pos,
       coalesce(f.from_hydrant, 0), coalesce(f.to_hydrant, 0),
       ST_AsBinary(s.g)
FROM stretch_roads f
JOIN lines l ON l.line = f.line
JOIN line_width lw ON lw.line = f.line
CROSS JOIN box
CROSS JOIN LATERAL (
    SELECT ST_Transform(ST_LineSubstring(l.geom, least(greatest(f.from_pos / l.len, 0), 1),
                                         least(greatest(f.to_pos / l.len, 0), 1)), 4326) AS g
) s
WHERE box.g IS NULL OR ST_Intersects(s.g, box.g)
ORDER BY f.line, f.from_pos, f.kind DESC, f.side

-- +goose Up
-- How a point joins the road network, in one place for every analysis:
-- its nearest road edge (planar distance in EPSG:4549), where along the
-- edge it falls (fraction 0 at source, 1 at target) and how far off the
-- road it is. An inlinable SQL function, so a LATERAL call over many points
-- plans as a nearest-neighbour index scan per point (which a second sort
-- key would defeat: measured 3 ms a point instead of ~20 µs).
-- +goose StatementBegin
CREATE FUNCTION network_snap(p geometry)
RETURNS TABLE (edge bigint, source bigint, target bigint, cost_s double precision,
               reverse_cost_s double precision, fraction double precision, offset_m double precision)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT r.id, r.source, r.target, r.cost_s, r.reverse_cost_s,
           ST_LineLocatePoint(r.geom_m, p), ST_Distance(r.geom_m, p)
    FROM roads r
    WHERE r.source IS NOT NULL AND r.target IS NOT NULL
    ORDER BY r.geom_m <-> p
    LIMIT 1
$$;
-- +goose StatementEnd

-- The routable graph with supply points as extra vertices, for pgRouting:
-- the roads, plus for each row of a supply table a vertex 10^15 + id joined
-- to both ends of its snapped edge. A connector's cost is the off-road leg
-- at local-street speed (30 km/h) plus the part of the edge to that end,
-- against the edge's direction only where it is two-way (or the point is
-- the edge's source itself). The table name
-- comes from the layer catalogue (onemap's Go code), never from a request.
-- +goose StatementBegin
CREATE FUNCTION network_edges_sql(supply regclass) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT format($q$
        SELECT id, source, target, cost_s AS cost, reverse_cost_s AS reverse_cost
        FROM roads WHERE source IS NOT NULL AND target IS NOT NULL
        UNION ALL
        SELECT 1000000000000000 + 2 * s.id, 1000000000000000 + s.id, n.source,
               n.offset_m / (30 / 3.6) + n.fraction * GREATEST(n.reverse_cost_s, 0), -1
        FROM %1$s s CROSS JOIN LATERAL network_snap(s.geom_m) n
        WHERE n.reverse_cost_s >= 0 OR n.fraction = 0
        UNION ALL
        SELECT 1000000000000000 + 2 * s.id + 1, 1000000000000000 + s.id, n.target,
               n.offset_m / (30 / 3.6) + (1 - n.fraction) * n.cost_s, -1
        FROM %1$s s CROSS JOIN LATERAL network_snap(s.geom_m) n
    $q$, supply)
$$;
-- +goose StatementEnd

-- Service areas: what the supply vertices (10^15 + id, see network_edges_sql)
-- reach within each break (seconds), each node going to the source that
-- reaches it first (pgr_drivingDistance's equicost: first-due districts).
-- Reached edges count in part: from a reached end as far as the time left
-- allows (ST_LineSubstring), and around the source's own snapped point.
-- Rows: source id (the supply row's id), break, and the reached road
-- pieces as one EPSG:4549 geometry; polygons come from buffering it.
-- +goose StatementBegin
CREATE FUNCTION network_reach(supply regclass, sources bigint[], breaks double precision[])
RETURNS TABLE (source bigint, break double precision, pieces geometry)
LANGUAGE plpgsql STABLE AS $f$
BEGIN
    RETURN QUERY EXECUTE format($q$
    WITH dd AS (
        SELECT d.node, d.agg_cost, d.from_v - 1000000000000000 AS src
        FROM pgr_drivingDistance(network_edges_sql(%1$L::regclass),
                                 (SELECT array_agg(1000000000000000 + s) FROM unnest($1) s),
                                 (SELECT max(b) FROM unnest($2) b), true, true) d
        WHERE d.node < 1000000000000000
    ),
    b AS (SELECT unnest($2) AS t),
    -- How much of each edge is reached from each end within each break, and
    -- by which source (a node belongs to the source reaching it first).
    ends AS (
        SELECT r.geom_m, b.t, ds.src AS src_s, dt.src AS src_t,
               CASE WHEN ds.agg_cost < b.t AND r.cost_s > 0
                    THEN LEAST(1, (b.t - ds.agg_cost) / r.cost_s) ELSE 0 END AS a,
               CASE WHEN dt.agg_cost < b.t AND r.reverse_cost_s > 0
                    THEN LEAST(1, (b.t - dt.agg_cost) / r.reverse_cost_s) ELSE 0 END AS z
        FROM roads r CROSS JOIN b
        LEFT JOIN dd ds ON ds.node = r.source
        LEFT JOIN dd dt ON dt.node = r.target
        WHERE ds.agg_cost < b.t OR dt.agg_cost < b.t
    ),
    whole AS (
        SELECT e.*, COALESCE(e.src_s = e.src_t AND e.a + e.z >= 1, false) AS whole_edge
        FROM ends e
    ),
    -- An edge one source covers from both ends is one piece, not two
    -- overlapping ones: half the geometry to buffer and union.
    parts AS (
        SELECT src_s AS src, t, geom_m AS g FROM whole WHERE whole_edge
        UNION ALL
        SELECT src_s, t, ST_LineSubstring(geom_m, 0, a) FROM whole WHERE NOT whole_edge AND a > 0
        UNION ALL
        SELECT src_t, t, ST_LineSubstring(geom_m, 1 - z, 1) FROM whole WHERE NOT whole_edge AND z > 0
        UNION ALL
        -- the source's own edge, both ways from its snapped point
        SELECT s.id, b.t, ST_LineSubstring(r.geom_m,
                   CASE WHEN n.reverse_cost_s > 0
                        THEN GREATEST(0, n.fraction - (b.t - n.offset_m / (30 / 3.6)) / n.reverse_cost_s)
                        ELSE n.fraction END,
                   CASE WHEN n.cost_s > 0
                        THEN LEAST(1, n.fraction + (b.t - n.offset_m / (30 / 3.6)) / n.cost_s)
                        ELSE n.fraction END)
        FROM %1$s s CROSS JOIN LATERAL network_snap(s.geom_m) n
        JOIN roads r ON r.id = n.edge CROSS JOIN b
        WHERE s.id = ANY($1) AND n.offset_m / (30 / 3.6) < b.t
    )
    SELECT src, t, ST_Collect(g) FROM parts GROUP BY src, t
    $q$, supply) USING sources, breaks;
END
$f$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION IF EXISTS network_reach(regclass, bigint[], double precision[]);
DROP FUNCTION IF EXISTS network_edges_sql(regclass);
DROP FUNCTION IF EXISTS network_snap(geometry);

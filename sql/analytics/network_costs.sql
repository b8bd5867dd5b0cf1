-- Travel seconds from the nearest of the sources to every road node within
-- $3 seconds (pgr_drivingDistance, multi-source with equicost). $1 the
-- supply table (a catalogue name), $2 the sources' ids in it; $4 extra
-- sources that are road nodes (proposed sites), reported as -node id.
SELECT d.node, d.agg_cost,
       CASE WHEN d.from_v >= 1000000000000000 THEN d.from_v - 1000000000000000 ELSE -d.from_v END
FROM pgr_drivingDistance(network_edges_sql($1::text::regclass),
                         (SELECT array_agg(1000000000000000 + s) FROM unnest($2::bigint[]) s)
                           || $4::bigint[],
                         $3, true, true) d
WHERE d.node < 1000000000000000

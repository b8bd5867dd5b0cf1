-- Travel seconds from each of the road nodes $1 to every node it reaches
-- within $2 seconds (one search per node): the reach of candidate sites.
SELECT d.from_v, d.node, d.agg_cost
FROM pgr_drivingDistance(
       'SELECT id, source, target, cost_s AS cost, reverse_cost_s AS reverse_cost
        FROM roads WHERE source IS NOT NULL AND target IS NOT NULL',
       $1::bigint[], $2, true, false) d

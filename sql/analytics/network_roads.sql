-- The routable road edges: id, source and target nodes, travel seconds
-- each way (reverse negative: one-way), and the centreline in EPSG:4549.
SELECT r.id, r.source, r.target, r.cost_s, r.reverse_cost_s, ST_AsBinary(r.geom_m)
FROM roads r
WHERE r.source IS NOT NULL AND r.target IS NOT NULL
ORDER BY r.id

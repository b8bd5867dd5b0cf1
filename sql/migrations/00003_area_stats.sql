-- +goose Up
-- Statistics of every town, community and grid cell, for the choropleths of
-- their tiles: one pass over premises and one over hazards, grouped by the
-- three levels at once. Refreshed (CONCURRENTLY, so tiles keep reading) by
-- the service when premises or hazards change, and by the demo loader;
-- "now" is the refresh time. /api/v1/stats computes the same figures live,
-- for any time window.
CREATE MATERIALIZED VIEW area_stats AS
WITH cells AS (
    SELECT g.id AS grid_cell_id, g.community_id, c.town_id
    FROM grid_cells g JOIN communities c ON c.id = g.community_id
),
p AS (
    SELECT CASE WHEN GROUPING(x.town_id) = 0 THEN 'town' WHEN GROUPING(x.community_id) = 0 THEN 'community' ELSE 'grid_cell' END AS level,
           COALESCE(x.town_id, x.community_id, x.grid_cell_id) AS id,
           count(*)::integer AS premises,
           count(*) FILTER (WHERE x.tag = 'red')::integer AS premises_red,
           count(*) FILTER (WHERE x.tag = 'yellow')::integer AS premises_yellow,
           count(*) FILTER (WHERE x.tag = 'green')::integer AS premises_green,
           round(count(*) FILTER (WHERE x.last_inspected_at >= now() - interval '90 days')::numeric
                 / nullif(count(*), 0), 4)::double precision AS inspected_90d_share
    FROM (SELECT pr.tag, pr.last_inspected_at, cells.* FROM premises pr JOIN cells ON cells.grid_cell_id = pr.grid_cell_id) x
    GROUP BY GROUPING SETS ((x.town_id), (x.community_id), (x.grid_cell_id))
),
h AS (
    SELECT CASE WHEN GROUPING(x.town_id) = 0 THEN 'town' WHEN GROUPING(x.community_id) = 0 THEN 'community' ELSE 'grid_cell' END AS level,
           COALESCE(x.town_id, x.community_id, x.grid_cell_id) AS id,
           count(*) FILTER (WHERE x.status = 'open')::integer AS hazards_open,
           count(*) FILTER (WHERE x.status = 'rectifying')::integer AS hazards_rectifying,
           count(*) FILTER (WHERE x.status = 'closed')::integer AS hazards_closed,
           round(count(*) FILTER (WHERE x.status = 'closed')::numeric / nullif(count(*), 0), 4)::double precision AS rectification_rate,
           round((percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', x.closed_at - x.reported_at) / 86400)
                  FILTER (WHERE x.status = 'closed'))::numeric, 2)::double precision AS median_days_to_close,
           count(*) FILTER (WHERE x.listed AND x.status <> 'closed'
                              AND x.deadline < (now() AT TIME ZONE 'Asia/Shanghai')::date)::integer AS listed_overdue
    FROM (SELECT hz.status, hz.listed, hz.deadline, hz.reported_at, hz.closed_at, cells.*
          FROM hazards hz JOIN cells ON cells.grid_cell_id = hz.grid_cell_id) x
    GROUP BY GROUPING SETS ((x.town_id), (x.community_id), (x.grid_cell_id))
)
SELECT COALESCE(p.level, h.level) AS level, COALESCE(p.id, h.id) AS id,
       COALESCE(p.premises, 0) AS premises, COALESCE(p.premises_red, 0) AS premises_red,
       COALESCE(p.premises_yellow, 0) AS premises_yellow, COALESCE(p.premises_green, 0) AS premises_green,
       p.inspected_90d_share,
       COALESCE(h.hazards_open, 0) AS hazards_open, COALESCE(h.hazards_rectifying, 0) AS hazards_rectifying,
       COALESCE(h.hazards_closed, 0) AS hazards_closed, h.rectification_rate, h.median_days_to_close,
       COALESCE(h.listed_overdue, 0) AS listed_overdue,
       now() AS refreshed_at
FROM p FULL JOIN h ON h.level = p.level AND h.id = p.id;

CREATE UNIQUE INDEX area_stats_level_id ON area_stats (level, id);

-- +goose Down
DROP MATERIALIZED VIEW IF EXISTS area_stats;

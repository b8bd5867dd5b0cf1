-- Statistics of an area of the grid hierarchy, joined into its tile layer so
-- the map can draw choropleths. {{cells}} is a subquery of the area's grid
-- cell ids (t is the area's row). "Now" is the database's clock; the
-- /api/v1/stats endpoint gives the same figures for any time window.
LEFT JOIN LATERAL (
    SELECT count(*)::integer AS premises,
           count(*) FILTER (WHERE p.tag = 'red')::integer AS premises_red,
           count(*) FILTER (WHERE p.tag = 'yellow')::integer AS premises_yellow,
           count(*) FILTER (WHERE p.tag = 'green')::integer AS premises_green,
           round(count(*) FILTER (WHERE p.last_inspected_at >= now() - interval '90 days')::numeric
                 / nullif(count(*), 0), 4)::double precision AS inspected_90d_share
    FROM premises p
    WHERE p.grid_cell_id IN ({{cells}})
) ps ON true
LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE h.status = 'open')::integer AS hazards_open,
           count(*) FILTER (WHERE h.status = 'rectifying')::integer AS hazards_rectifying,
           count(*) FILTER (WHERE h.status = 'closed')::integer AS hazards_closed,
           round(count(*) FILTER (WHERE h.status = 'closed')::numeric / nullif(count(*), 0), 4)::double precision AS rectification_rate,
           round((percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', h.closed_at - h.reported_at) / 86400)
                  FILTER (WHERE h.status = 'closed'))::numeric, 2)::double precision AS median_days_to_close,
           count(*) FILTER (WHERE h.listed AND h.status <> 'closed' AND h.deadline < (now() AT TIME ZONE 'Asia/Shanghai')::date)::integer AS listed_overdue
    FROM hazards h
    WHERE h.grid_cell_id IN ({{cells}})
) hs ON true

-- Hazards per grid cell: cell id; of those reported in [$1, $2), how many
-- are open and rectifying now, and the days from report to closure of each
-- closed one (an array, whose length is the number closed); and the listed
-- hazards overdue at the reference time $3: reported before it, not closed
-- before it, their deadline a date before $4 (the reference's date in
-- Asia/Shanghai). $1, $2 NULL: an open-ended period.
-- {{cells}} is filled by the caller with one of two fixed conditions on $5:
-- "only the grid cells of the array $5", or "$5 IS NULL", for all cells.
-- Grouped by cell alone (see stats_premises.sql, also for why the period
-- is tested in FILTER clauses, not in WHERE); the caller rolls the cells up
-- and takes the medians, which need every value of an area, not the
-- medians of its cells. An ordered-set aggregate here would sort all the
-- rows by cell first.
SELECT grid_cell_id,
       count(*) FILTER (WHERE in_period AND status = 'open'),
       count(*) FILTER (WHERE in_period AND status = 'rectifying'),
       count(*) FILTER (WHERE listed AND reported_at < $3::timestamptz
                          AND (closed_at IS NULL OR closed_at >= $3::timestamptz)
                          AND deadline < $4::date),
       -- date_part, not extract: double precision, not numeric.
       array_agg(date_part('epoch', closed_at - reported_at) / 86400)
           FILTER (WHERE in_period AND status = 'closed')
FROM (
    SELECT grid_cell_id, status, listed, reported_at, closed_at, deadline,
           ($1::timestamptz IS NULL OR reported_at >= $1::timestamptz)
               AND ($2::timestamptz IS NULL OR reported_at < $2::timestamptz) AS in_period
    FROM hazards
    WHERE grid_cell_id IS NOT NULL
      {{cells}}
) h
GROUP BY grid_cell_id

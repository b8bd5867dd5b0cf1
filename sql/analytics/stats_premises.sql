-- Premises per grid cell and kind: cell id, kind, premises, those tagged
-- red, yellow and green, and those last inspected in [$1, $2).
-- {{cells}} is filled by the caller with one of two fixed conditions on $3:
-- "only the grid cells of the array $3", or "$3 IS NULL", for all cells.
-- Grouped by cell alone, without joining the hierarchy: a join costs more
-- than the aggregation on a million rows, and the planner may answer it
-- with random index probes into a heap not ordered by cell. The caller
-- rolls the cells up to communities and towns.
-- No parameter meets a column in WHERE (but the cells of {{cells}}):
-- pgx prepares statements, and after five runs PostgreSQL may switch to a
-- generic plan, which guesses such a condition keeps 0.5% of the rows and
-- then sorts instead of hashing.
SELECT grid_cell_id,
       kind,
       count(*),
       count(*) FILTER (WHERE tag = 'red'),
       count(*) FILTER (WHERE tag = 'yellow'),
       count(*) FILTER (WHERE tag = 'green'),
       count(*) FILTER (WHERE last_inspected_at >= $1::timestamptz AND last_inspected_at < $2::timestamptz)
FROM premises
WHERE grid_cell_id IS NOT NULL
  {{cells}}
GROUP BY grid_cell_id, kind

-- The hazards of one area, counted by the bucket of $1 they were reported
-- in and the one they were closed in. $1 is the window cut into months: its
-- start, the start of each month inside it (Asia/Shanghai), its end; bucket
-- i (from 1) is [$1[i], $1[i+1]), 0 is before the window, cardinality($1)
-- after it, NULL not closed. Only hazards of the categories $2 and the
-- severities $3 are counted (NULL: all).
-- {{cells}} is filled by the caller with one of two fixed conditions on $4:
-- "only the grid cells of the array $4", or "$4 IS NULL", for the whole
-- city (hazards outside any grid cell included).
-- As in stats_premises.sql, no parameter meets a column in WHERE but the
-- cells: the window is applied by width_bucket and the categories by FILTER,
-- so that a generic plan estimates the rows as well as a custom one.
SELECT width_bucket(reported_at, $1::timestamptz[]),
       width_bucket(closed_at, $1::timestamptz[]),
       count(*) FILTER (WHERE ($2::text[] IS NULL OR category = ANY ($2))
                          AND ($3::text[] IS NULL OR severity = ANY ($3)))
FROM hazards
WHERE true
  {{cells}}
GROUP BY 1, 2

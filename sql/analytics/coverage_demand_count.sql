-- How many rows coverage_demand.sql will return, so that its columns are
-- allocated once (on the large demo, growing them cost more than reading).
-- {{table}} and {{where}} as there.
SELECT count(*) FROM {{table}} t WHERE true {{where}}

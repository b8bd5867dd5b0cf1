-- Statistics of an area of the grid hierarchy, joined into its tile layer so
-- the map can draw choropleths: the area_stats materialized view (see
-- migration 00003), refreshed when premises or hazards change.
-- {{level}} is the area's level as a quoted literal; t is the area's row.
LEFT JOIN area_stats s ON s.level = {{level}} AND s.id = t.id

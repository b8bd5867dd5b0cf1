-- A point layer that may be too dense to send point by point: when more than
-- {{threshold}} features meet the tile, its clusters (clusters.sql) are sent,
-- else its features (features.sql). Only the chosen branch runs: each branch's
-- WHERE is a one-time filter on the count.
-- Placeholders as in features.sql and clusters.sql, plus
--   {{features}} {{clusters}}  the two complete statements
--   {{threshold}}              an integer
WITH dense AS (
    SELECT count(*) > {{threshold}} AS yes
    FROM (
        SELECT 1 FROM {{table}} t
        WHERE t.geom_3857 && ST_TileEnvelope($1, $2, $3, margin => {{buffer}}.0 / {{extent}})
              {{where}}
        LIMIT {{threshold}} + 1
    ) s
)
SELECT * FROM ({{features}}) f WHERE NOT (SELECT yes FROM dense)
UNION ALL
SELECT * FROM ({{clusters}}) c WHERE (SELECT yes FROM dense)

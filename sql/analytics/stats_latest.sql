-- When the latest hazard was reported (NULL when there are none): the end of
-- the trend's default window.
SELECT max(reported_at) FROM hazards

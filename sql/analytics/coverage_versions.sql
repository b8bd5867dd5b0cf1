-- The data versions of tables ($1), 0 for a table never written.
SELECT t, COALESCE(v.version, 0)
FROM unnest($1::text[]) AS t
LEFT JOIN layer_versions v ON v.layer = t

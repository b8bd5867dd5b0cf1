-- What the database checks rejected or repaired, by row.
SELECT _row, _reject_field, _reject_reason, _repair
FROM import_rows
WHERE _reject_reason IS NOT NULL OR _repair IS NOT NULL
ORDER BY _row;

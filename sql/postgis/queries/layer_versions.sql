-- Every table's data version (bumped by the triggers on each write). A table
-- never written to has no row: its version is 0.
SELECT layer, version FROM layer_versions

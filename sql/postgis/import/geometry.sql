-- Geometries of the staged rows: decoded from WKB, invalid polygons repaired
-- with ST_MakeValid and kept to their polygonal part as MultiPolygons, and
-- whatever is still invalid rejected. Lines are not repaired: a line that
-- PostGIS calls invalid has fewer than two distinct points, and there is
-- nothing to guess a road from.
UPDATE import_rows SET geom = ST_GeomFromWKB(_wkb, 4326), _wkb = NULL;

UPDATE import_rows SET _repair = ST_IsValidReason(geom) WHERE NOT ST_IsValid(geom);

UPDATE import_rows
SET geom = ST_Multi(ST_CollectionExtract(ST_MakeValid(geom), 3))
WHERE _repair IS NOT NULL AND ST_Dimension(geom) = 2;

UPDATE import_rows
SET _reject_field = 'geometry',
    _reject_reason = CASE WHEN ST_Dimension(geom) = 2
        THEN 'invalid polygon (' || _repair || ') that ST_MakeValid cannot repair into a polygon'
        ELSE 'invalid geometry (' || _repair || ')' END,
    _repair = NULL
WHERE _repair IS NOT NULL AND (ST_Dimension(geom) < 2 OR ST_IsEmpty(geom) OR NOT ST_IsValid(geom));

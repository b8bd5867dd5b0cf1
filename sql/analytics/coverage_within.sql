-- Which demand–supply pairs lie within $5 metres by PostGIS geography
-- (spheroid) distance: the exact test for pairs too near the threshold to
-- decide in the plane. $1, $2 demand lon/lat; $3, $4 supply lon/lat.
-- Returns the 1-based positions of the pairs within.
SELECT u.i
FROM unnest($1::double precision[], $2::double precision[], $3::double precision[], $4::double precision[])
     WITH ORDINALITY AS u(dx, dy, sx, sy, i)
WHERE ST_DWithin(ST_SetSRID(ST_MakePoint(u.dx, u.dy), 4326)::geography,
                 ST_SetSRID(ST_MakePoint(u.sx, u.sy), 4326)::geography, $5)

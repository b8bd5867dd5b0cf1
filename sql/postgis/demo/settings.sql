-- Memory for the index builds and the foreign-key checks after the COPY,
-- for this transaction only.
SET LOCAL maintenance_work_mem = '256MB';
SET LOCAL work_mem = '64MB'

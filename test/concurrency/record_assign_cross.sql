-- pgbench: record for rep A and move rep B while another client records for
-- B and moves A.  Like any two transactions that lock two rows in opposite
-- orders this may deadlock; record_assign.sh only reports what happens.
\set a random(30, 31)
\set unit random(10, 11)
\set amount random(1, 600)
BEGIN;
SELECT salesperf.record(:a, 'call', :amount);
SELECT salesperf.assign(61 - :a, :unit, clock_timestamp());
COMMIT;

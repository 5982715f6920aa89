-- pgbench: record for a shared rep, then move the client's own rep, in one
-- transaction.
\set shared random(20, 21)
\set rep :client_id + 1
\set unit random(10, 11)
\set amount random(1, 600)
\set mins random(-120, 240)
BEGIN;
SELECT salesperf.record(:shared, 'call', :amount, now() + :mins * interval '1 minute');
SELECT salesperf.assign(:rep, :unit, now());
COMMIT;

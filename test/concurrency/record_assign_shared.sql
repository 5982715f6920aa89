-- pgbench: every client records for one of two shared reps and moves that
-- same rep, in one transaction.  The move starts at clock_timestamp(), read
-- after record() has taken the rep, so moves of one rep start in the order
-- they commit (at now(), the transaction's start, a transaction that began
-- earlier but reached the rep later would be refused with 23P01: a later
-- membership already exists).
\set rep random(20, 21)
\set unit random(10, 11)
\set k random(1, 2)
\set amount random(1, 600)
\set mins random(-120, 240)
BEGIN;
SELECT salesperf.record(:rep, (ARRAY['call', 'email'])[:k], :amount,
                        now() + :mins * interval '1 minute');
SELECT salesperf.assign(:rep, :unit, clock_timestamp());
COMMIT;

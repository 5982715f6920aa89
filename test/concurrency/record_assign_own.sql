-- pgbench: a client records an activity for its own rep and moves that rep
-- to a team, in one transaction (no other client touches the rep).  Some
-- activities lie ahead of now(), so the move re-attributes them.
\set rep :client_id + 1
\set unit random(10, 11)
\set k random(1, 2)
\set amount random(1, 600)
\set mins random(-120, 240)
BEGIN;
SELECT salesperf.record(:rep, (ARRAY['call', 'email'])[:k], :amount,
                        now() + :mins * interval '1 minute');
SELECT salesperf.assign(:rep, :unit, now());
COMMIT;

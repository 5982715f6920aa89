-- pgbench: change one of the latest activities (amount, moment, sometimes its rep).
\set back random(0, 200)
\set hours random(-48, 48)
\set move random(1, 4)
\set rep random(1, 4)
UPDATE salesperf.activity
   SET amount = amount + 1,
       occurred_at = occurred_at + :hours * interval '1 hour',
       rep_id = CASE WHEN :move = 1 THEN :rep ELSE rep_id END
 WHERE activity_id = (SELECT max(activity_id) - :back FROM salesperf.activity);

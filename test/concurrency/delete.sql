-- pgbench: delete one of the latest activities (keyed ones too: a racing
-- retry of that key must then record it again).
\set back random(0, 200)
DELETE FROM salesperf.activity
 WHERE activity_id = (SELECT max(activity_id) - :back FROM salesperf.activity);

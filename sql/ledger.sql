-- The ledger and what follows from it: a small team's November, in New York.
-- Every number below can be checked by hand from the activities recorded.
DROP EXTENSION salesperf;
CREATE EXTENSION salesperf;
SET timezone = 'America/New_York';
SELECT time_zone FROM salesperf.configure(time_zone => 'America/New_York');

INSERT INTO salesperf.rep (rep_id, name) VALUES (1, 'Ada'), (2, 'Bo'), (3, 'Cy'), (4, 'Di');
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
  (10, NULL, 'Acme', 'company'), (20, 10, 'Paris', 'team'), (21, 10, 'Berlin', 'team');
SELECT salesperf.assign(1, 20, '2026-01-01'), salesperf.assign(2, 20, '2026-01-01'),
       salesperf.assign(3, 21, '2026-01-01'), salesperf.assign(4, 21, '2026-01-01');

-- Scoring: a call is worth 1 point, a won deal 1 point per 100, an e-mail 2
-- points but at most 5 a day, a meeting 5.
INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount, daily_cap) VALUES
  ('calls',    'call',     1, 0,    NULL),
  ('deals',    'deal_won', 0, 0.01, NULL),
  ('emails',   'email',    2, 0,    5),
  ('meetings', 'meeting',  5, 0,    NULL);
SELECT salesperf.create_leaderboard('points this month');
SELECT salesperf.create_leaderboard('team points', participant => 'unit', unit_kind => 'team');
SELECT salesperf.create_leaderboard('calls this week', metric => 'calls', period => 'week');

-- 23:30 on 31 October in New York is 03:30 UTC on 1 November, but it is
-- October's: periods follow the configured time zone.
SELECT salesperf.record(1, 'call', 120, '2026-10-31 23:30');
SELECT day, kind, activities FROM salesperf.kpi_counter ORDER BY day;
SELECT salesperf.kpi_value('calls', 'rep', 1, 'month', '2026-10-15') AS october_calls,
       salesperf.kpi_value('calls', 'rep', 1, 'month', '2026-11-15') AS november_calls;

-- Monday 2 November.
SELECT salesperf.record(1, 'call', 300, '2026-11-02 09:00'),
       salesperf.record(1, 'call', 60,  '2026-11-02 09:30'),
       salesperf.record(1, 'call', 240, '2026-11-02 10:00'),
       salesperf.record(2, 'call', 180, '2026-11-02 11:00'),
       salesperf.record(2, 'call', 60,  '2026-11-02 12:00'),
       salesperf.record(2, 'deal_won', 500, '2026-11-02 15:00', 'crm', 'deal-1');
-- A retry of the same deal (same source and key) returns the same id and
-- awards nothing twice.
SELECT salesperf.record(2, 'deal_won', 500, '2026-11-02 15:00', 'crm', 'deal-1') AS retry_id;
SELECT count(*) AS deal_rows FROM salesperf.activity WHERE kind = 'deal_won';

-- Cy sends four e-mails in one statement: 2 + 2 + 1 + 0 points under the cap of 5.
INSERT INTO salesperf.activity (rep_id, kind, occurred_at)
SELECT 3, 'email', '2026-11-02 08:00'::timestamptz + i * interval '10 minutes'
  FROM generate_series(1, 4) i;
SELECT activity_id, occurred_at, points FROM salesperf.scored_activity
 WHERE kind = 'email' ORDER BY occurred_at;

-- Tuesday: Di reaches 7 points too, but a day after Bo did.
SELECT salesperf.record(4, 'meeting', 1, '2026-11-03 10:00'),
       salesperf.record(4, 'call', 30, '2026-11-03 11:00'),
       salesperf.record(4, 'call', 30, '2026-11-03 11:30');

-- Ranks: Bo and Di tie on 7 and share rank 1; Bo is listed first because he
-- reached 7 first.  Ada has 3, Cy 5.  The previous period is October, when
-- Ada alone scored (1 point).
SELECT * FROM salesperf.leaderboard_top('points this month', 10, '2026-11-20');
SELECT * FROM salesperf.leaderboard_rank('points this month', 1, '2026-11-20');
SELECT * FROM salesperf.leaderboard_top('team points', 10, '2026-11-20');
SELECT * FROM salesperf.leaderboard_top('calls this week', 3, '2026-11-03');

-- KPIs come from counters: per rep, per team subtree, for the company.
SELECT salesperf.kpi_value('points', 'rep', 2, 'month', '2026-11-20') AS bo_points,
       salesperf.kpi_value('revenue', 'unit', 20, 'month', '2026-11-20') AS paris_revenue,
       salesperf.kpi_value('call_seconds', 'company', NULL, 'month', '2026-11-20') AS call_seconds,
       salesperf.kpi_value('points', 'unit', 10, 'all', '2026-11-20') AS all_time_points;

-- Ada moves from Paris to Berlin on 15 November; her calls after that count
-- for Berlin, those before stay with Paris.
SELECT salesperf.assign(1, 21, '2026-11-15');
SELECT salesperf.record(1, 'call', 60, '2026-11-16 10:00');
SELECT unit_id, sum(points) AS points FROM salesperf.kpi_counter
 WHERE rep_id = 1 AND day >= '2026-11-01' GROUP BY unit_id ORDER BY unit_id;
-- Back-dating the move to 1 November re-attributes her 2 November calls.
UPDATE salesperf.membership SET during = tstzrange('2026-01-01', '2026-11-01')
 WHERE rep_id = 1 AND unit_id = 20;
UPDATE salesperf.membership SET during = tstzrange('2026-11-01', NULL)
 WHERE rep_id = 1 AND unit_id = 21;
SELECT unit_id, sum(points) AS points FROM salesperf.kpi_counter
 WHERE rep_id = 1 AND day >= '2026-11-01' GROUP BY unit_id ORDER BY unit_id;
SELECT * FROM salesperf.leaderboard_top('team points', 10, '2026-11-20');

-- Deleting Cy's first e-mail lets the fourth one earn: 2 + 2 + 1.
DELETE FROM salesperf.activity WHERE kind = 'email' AND occurred_at = '2026-11-02 08:10';
SELECT occurred_at, points FROM salesperf.scored_activity WHERE kind = 'email' ORDER BY occurred_at;
-- The deal was worth 800, not 500: points follow the update.
UPDATE salesperf.activity SET amount = 800 WHERE source_key = 'deal-1';
SELECT * FROM salesperf.leaderboard_top('points this month', 10, '2026-11-20');

-- A rule change re-derives at once: calls are worth 2 points from 3 November.
UPDATE salesperf.point_rule SET valid = tstzrange(NULL, '2026-11-03') WHERE name = 'calls';
INSERT INTO salesperf.point_rule (name, kind, points, valid)
VALUES ('calls from November 3', 'call', 2, tstzrange('2026-11-03', NULL));
SELECT * FROM salesperf.leaderboard_top('points this month', 10, '2026-11-20');

-- Everything maintained so far equals a rebuild from the ledger.
CREATE TEMP TABLE before_counter AS SELECT * FROM salesperf.kpi_counter;
CREATE TEMP TABLE before_standing AS SELECT * FROM salesperf.standing;
CREATE TEMP TABLE before_award AS SELECT * FROM salesperf.capped_award;
SELECT salesperf.recompute();
SELECT (SELECT count(*) FROM (SELECT * FROM before_counter EXCEPT ALL SELECT * FROM salesperf.kpi_counter
                              UNION ALL
                              SELECT * FROM salesperf.kpi_counter EXCEPT ALL SELECT * FROM before_counter) d) AS counter_diff,
       (SELECT count(*) FROM (SELECT * FROM before_standing EXCEPT ALL SELECT * FROM salesperf.standing
                              UNION ALL
                              SELECT * FROM salesperf.standing EXCEPT ALL SELECT * FROM before_standing) d) AS standing_diff,
       (SELECT count(*) FROM (SELECT * FROM before_award EXCEPT ALL SELECT * FROM salesperf.capped_award
                              UNION ALL
                              SELECT * FROM salesperf.capped_award EXCEPT ALL SELECT * FROM before_award) d) AS award_diff;

-- Bad input: an ERROR with a specific SQLSTATE, and nothing changes.
\set VERBOSITY sqlstate
SELECT salesperf.record(99, 'call');
SELECT salesperf.record(1, 'telepathy');
SELECT salesperf.record(NULL, 'call');
SELECT salesperf.record(1, NULL);
SELECT salesperf.record(1, 'deal_won', -5);
SELECT salesperf.record(1, 'deal_won', 'NaN');
SELECT salesperf.record(1, 'deal_won', 'Infinity');
SELECT salesperf.record(1, 'call', 1, 'infinity');
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
VALUES (1, 'call', 1, '2026-11-20'), (99, 'call', 1, '2026-11-20');
SELECT salesperf.kpi_value('happiness', 'rep', 1, 'month');
SELECT salesperf.kpi_value('calls', 'galaxy', 1, 'month');
SELECT salesperf.kpi_value('calls', 'rep', 1, 'fortnight');
SELECT salesperf.kpi_value('calls', 'rep', 99, 'month');
SELECT * FROM salesperf.leaderboard_top('no such board');
SELECT * FROM salesperf.leaderboard_top('points this month', -1);
SELECT salesperf.create_leaderboard('x', metric => 'happiness');
SELECT salesperf.create_leaderboard('x', period => 'fortnight');
SELECT salesperf.create_leaderboard('x', participant => 'unit');
INSERT INTO salesperf.point_rule (name, kind, points, daily_cap) VALUES ('bad', 'call', -1, 5);
-- A REPEATABLE READ snapshot would miss what a concurrent writer of the same
-- rep committed: writers use READ COMMITTED or SERIALIZABLE.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT salesperf.record(1, 'call');
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT salesperf.record(1, 'call', 1, '2026-11-20') > 0 AS recorded_under_serializable;
ROLLBACK;
\set VERBOSITY default
SELECT count(*) AS activities FROM salesperf.activity;

-- A bulk insert whose groups outgrow work_mem spills them to temporary
-- files and closes them when its statement ends: no "temporary file leak"
-- warning at commit, and the counters hold every row.
SET work_mem = '64kB';
INSERT INTO salesperf.activity (rep_id, kind, occurred_at)
SELECT 1 + i % 4, 'call', timestamptz '2026-01-01' + i * interval '1 hour'
  FROM generate_series(1, 6000) i;
RESET work_mem;
SELECT (SELECT sum(activities) FROM salesperf.kpi_counter WHERE kind = 'call')
     = (SELECT count(*) FROM salesperf.activity WHERE kind = 'call') AS every_call_counted;

-- Leave the default settings for the files that follow.
DROP EXTENSION salesperf;
CREATE EXTENSION salesperf;

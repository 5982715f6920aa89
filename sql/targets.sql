-- Targets: Acme's revenue targets for April 2026 (30 days) in Paris, seen
-- on the morning of 10 April, when 9 of the 30 days are gone (elapsed 0.3).
-- Every number below can be checked by hand from the targets and the
-- handful of deals entered at the start.
DROP EXTENSION salesperf;
CREATE EXTENSION salesperf;
SET timezone = 'Europe/Paris';
SET datestyle = 'ISO, YMD';
\set SHOW_CONTEXT never
SELECT time_zone FROM salesperf.configure(time_zone => 'Europe/Paris');

-- Acme: Sales has two teams; Export has one team and a target of its own.
-- Fay sells for Acme without belonging to any unit.
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
  (1,  NULL, 'Acme',   'company'),
  (10, 1,    'Sales',  'department'),
  (11, 10,   'North',  'team'),
  (12, 10,   'South',  'team'),
  (30, 1,    'Export', 'department'),
  (31, 30,   'Far',    'team');
INSERT INTO salesperf.rep (rep_id, name) VALUES
  (1, 'Ada'), (2, 'Bo'), (3, 'Cy'), (4, 'Di'), (5, 'Eve'), (6, 'Fay');
SELECT salesperf.assign(r, u, '2026-01-01')
  FROM (VALUES (1, 11), (2, 11), (3, 12), (4, 11), (5, 31)) AS m(r, u);
-- Di moves from North to South in the middle of April.
SELECT salesperf.assign(4, 12, '2026-04-15');

-- Reps' monthly revenue targets.  Any moment of April names April: the
-- stored period_start is the Paris midnight that starts it.
SELECT salesperf.set_target('revenue', 'rep', r, 'month', '2026-04-17 15:00', v)
  FROM (VALUES (1, 1000), (2, 2000), (3, 3000), (4, 500), (5, 4000), (6, 700)) AS t(r, v);
-- Export's manager sets the department's target above its team's sum.
SELECT salesperf.set_target('revenue', 'unit', 30, 'month', '2026-04-01', 5000);
SELECT kpi, scope, scope_id, period, period_start, value
  FROM salesperf.target ORDER BY scope, scope_id;

-- Setting a target again replaces it; a NULL value removes it.
SELECT salesperf.set_target('revenue', 'rep', 6, 'month', '2026-04-30 23:59', 900);
SELECT value FROM salesperf.target WHERE scope = 'rep' AND scope_id = 6;
SELECT salesperf.set_target('revenue', 'rep', 6, 'month', '2026-04-01', NULL);
SELECT count(*) AS fay_targets FROM salesperf.target WHERE scope = 'rep' AND scope_id = 6;
SELECT salesperf.set_target('revenue', 'rep', 6, 'month', '2026-04-01', 700);

-- Effective targets roll up bottom-up, members as of 1 April:
--   North = Ada 1000 + Bo 2000 + Di 500 (still in North on 1 April) = 3500
--   South = Cy 3000 (Di arrives on the 15th: not counted in April)   = 3000
--   Sales = North + South                                            = 6500
--   Far   = Eve                                                      = 4000
--   Export: explicit 5000 overrides Far's 4000
--   Acme  = Sales 6500 + Export 5000                                 = 11500
--   company = Acme 11500 + Fay 700 (in no unit)                      = 12200
SELECT u.unit_id, u.name, salesperf.effective_target('revenue', 'unit', u.unit_id, 'month', '2026-04-10') AS target
  FROM salesperf.unit u ORDER BY u.unit_id;
SELECT salesperf.effective_target('revenue', 'company', NULL, 'month', '2026-04-10') AS company,
       salesperf.effective_target('revenue', 'rep', 4, 'month', '2026-04-10') AS di;

-- In May Di is in South from the first day.  Only Di has a May target, so
-- North has nothing to sum (NULL) and South and Sales get Di's 600.
SELECT salesperf.set_target('revenue', 'rep', 4, 'month', '2026-05-01', 600);
SELECT u.unit_id, u.name, salesperf.effective_target('revenue', 'unit', u.unit_id, 'month', '2026-05-01') AS may_target
  FROM salesperf.unit u WHERE u.unit_id IN (1, 10, 11, 12) ORDER BY u.unit_id;

-- Won deals (revenue).  Ada's 5000 on 31 March at 23:30 Paris is March's;
-- her 200 at 00:30 on 1 April (still 31 March in UTC) is April's.  Cy's 750
-- at 23:59 on 9 April is before the morning of the 10th.  Di's 900 on
-- 20 April has not happened yet on the 10th.
SELECT count(salesperf.record(r, 'deal_won', amount, at::timestamptz)) AS deals
  FROM (VALUES (1, 5000, '2026-03-31 23:30'), (1, 200, '2026-04-01 00:30'), (1, 1000, '2026-04-08 11:00'),
               (2, 700, '2026-04-03 10:00'), (3, 750, '2026-04-09 23:59'), (4, 100, '2026-04-05 15:00'),
               (5, 1500, '2026-04-02 09:00'), (4, 900, '2026-04-20 10:00')) AS d(r, amount, at);

-- Progress at 00:00 on 10 April, Paris time: 216 of April's 720 hours are
-- gone, elapsed = 0.3, expected_to_date = 0.3 x target, projected =
-- actual / 0.3.  Status: achieved when actual >= target, on_track when
-- projected >= target, behind when projected >= 0.8 x target, else at_risk.
--   Ada 1200 of 1000: achieved      Bo 700 of 2000: 2333.33, on_track
--   Cy 750 of 3000: 2500, behind    Di 100 of 500: 333.33, at_risk
--   Eve 1500 of 4000: 5000, on_track  Fay 0 of 700: at_risk
--   North = Ada + Bo + Di's 100 (sold while in North) = 2000 of 3500: on_track
--   South = Cy 750 of 3000: 2500 >= 2400, behind
SELECT scope, scope_id, name, period_start, period_end, target, actual,
       round(attainment, 4) AS attainment, elapsed, expected_to_date,
       round(projected, 2) AS projected, status
  FROM salesperf.target_progress_at('2026-04-10 00:00');

-- One rep's rows alone (what a rep's home page asks).
SELECT name, target, actual, status FROM salesperf.target_progress_at('2026-04-10 00:00', 'rep', 4);
SELECT name, target, actual, status FROM salesperf.target_progress_at('2026-04-10 00:00', 'unit', 12);

-- On 25 April 00:00 (elapsed 24/30 = 0.8) Di's 900 has happened: 1000 of
-- 500, achieved; it counts for South, where Di was when selling it.
SELECT scope, name, target, actual, elapsed, status
  FROM salesperf.target_progress_at('2026-04-25 00:00')
 WHERE scope_id IN (4, 11, 12) AND scope IN ('rep', 'unit') ORDER BY scope, scope_id;

-- Changing a rep's target changes every unit above at once.
SELECT salesperf.set_target('revenue', 'rep', 2, 'month', '2026-04-01', 2500);
SELECT scope, name, target FROM salesperf.target_progress_at('2026-04-10 00:00')
 WHERE scope = 'company' OR scope_id IN (1, 10, 11) AND scope = 'unit';

-- The forecast reads the month's effective revenue targets.
SELECT unit_id, name, target FROM salesperf.forecast('month', '2026-04-10 00:00');

-- Changing the zone moves the period boundaries; the stored targets keep
-- the local date they were set for (1 April), so April's targets are
-- still April's: now from midnight UTC.
SELECT time_zone FROM salesperf.configure(time_zone => 'UTC');
SELECT period_start, period_end, target
  FROM salesperf.target_progress_at('2026-04-10 00:00 UTC', 'rep', 1);
SELECT time_zone FROM salesperf.configure(time_zone => 'Europe/Paris');

-- Bad input names the problem and changes nothing.
SELECT salesperf.set_target('revenu', 'rep', 1, 'month', '2026-04-01', 10);
SELECT salesperf.set_target('revenue', 'rep', 99, 'month', '2026-04-01', 10);
SELECT salesperf.set_target('revenue', 'team', 11, 'month', '2026-04-01', 10);
SELECT salesperf.set_target('revenue', 'rep', 1, 'fortnight', '2026-04-01', 10);
SELECT salesperf.set_target('revenue', 'rep', 1, 'month', '2026-04-01', -1);
SELECT count(*) AS targets, sum(value) AS total FROM salesperf.target;

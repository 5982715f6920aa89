-- Commission: Acme's April 2026 statements in Paris, the close of April, a
-- reversed deal and a back-dated one coming out in May, and the close of
-- May.  Every number can be checked by hand from the plans, targets and
-- deals below; the arithmetic is in the comments.
DROP EXTENSION salesperf;
CREATE EXTENSION salesperf;
SET timezone = 'Europe/Paris';
SET datestyle = 'ISO, YMD';
\set SHOW_CONTEXT never
SELECT time_zone FROM salesperf.configure(time_zone => 'Europe/Paris');
-- Errors show as SQLSTATE: message.
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- Two teams.  Di moves from North to South at midnight on 16 April: half
-- of April (15 of its 30 days, all of them 24 hours in Paris) in each.
-- Fay belongs to no unit.
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
  (1, NULL, 'Acme', 'company'), (11, 1, 'North', 'team'), (12, 1, 'South', 'team');
INSERT INTO salesperf.rep (rep_id, name) VALUES
  (1, 'Ada'), (2, 'Bo'), (3, 'Cy'), (4, 'Di'), (5, 'Eve'), (6, 'Fay');
SELECT salesperf.assign(r, u, '2026-01-01')
  FROM (VALUES (1, 11), (2, 11), (3, 12), (4, 11), (5, 12)) AS m(r, u);
SELECT salesperf.assign(4, 12, '2026-04-16');

-- Plans.  'AE' (quota): 10,000 at target, half on the rep's attainment and
-- half on the team's, through a curve with a threshold at 50 % (0 below),
-- 1 at 100 %, an accelerator to 2 at 150 % and a cap there; 500 to every
-- member of a team that makes its target.  'Hunter' (rate, graduated):
-- 5 % up to 100,000, 10 % up to 150,000, 15 % above; 300 team bonus.
-- 'Closer': the same tiers, retroactive.
INSERT INTO salesperf.commission_plan
       (name, basis_kpi, period, kind, target_incentive, individual_weight, team_weight, curve_x, curve_y, team_bonus)
VALUES ('AE', 'revenue', 'month', 'quota', 10000, 0.5, 0.5, '{0.5,1,1.5}', '{0,1,2}', 500);
INSERT INTO salesperf.commission_plan (name, basis_kpi, period, kind, breakpoints, rates, retroactive, team_bonus)
VALUES ('Hunter', 'revenue', 'month', 'rate', '{0,100000,150000}', '{0.05,0.10,0.15}', false, 300),
       ('Closer', 'revenue', 'month', 'rate', '{0,100000,150000}', '{0.05,0.10,0.15}', true, 0);
SELECT salesperf.assign_plan(r, p, '2026-01-01')
  FROM (VALUES (1, 'AE'), (2, 'AE'), (3, 'AE'), (4, 'AE'), (5, 'Hunter'), (6, 'Closer')) AS a(r, p);

-- April revenue targets.  Team targets roll up from the members on 1 April:
-- North = Ada 100,000 + Bo 80,000 + Di 60,000 = 240,000; South = Cy 50,000
-- (Eve has no target; Di arrives on the 16th).
SELECT salesperf.set_target('revenue', 'rep', r, 'month', '2026-04-01', v)
  FROM (VALUES (1, 100000), (2, 80000), (3, 50000), (4, 60000)) AS t(r, v);

-- April's deals.
SELECT count(salesperf.record(r, 'deal_won', v, t::timestamptz)) AS deals
  FROM (VALUES (1, 120000, '2026-04-07 11:00'), (2, 40000, '2026-04-08 10:00'),
               (4, 20000, '2026-04-10 15:00'), (4, 40000, '2026-04-20 09:30'),
               (3, 45000, '2026-04-21 16:00'), (5, 175000, '2026-04-22 12:00'),
               (6, 175000, '2026-04-23 12:00')) AS d(r, v, t);

-- April.  Team values (each deal counts for the team its rep was in then):
--   North = Ada 120,000 + Bo 40,000 + Di 20,000 = 180,000 / 240,000 = 0.75
--           -> curve 0.5 (halfway from 50 % to 100 %); not achieved.
--   South = Cy 45,000 + Eve 175,000 + Di 40,000 = 260,000 / 50,000 = 5.2
--           -> curve 2 (capped); achieved.
-- Ada: 120,000 / 100,000 = 1.2 -> curve 1.4; individual 10,000 x 0.5 x 1.4 = 7,000;
--      team 10,000 x 0.5 x 0.5 (North) = 2,500; total 9,500.
-- Bo:  40,000 / 80,000 = 0.5 -> curve 0 (the threshold); team 2,500; total 2,500.
-- Cy:  45,000 / 50,000 = 0.9 -> curve 0.8; individual 4,000; team 10,000 x 0.5 x 2
--      = 10,000; bonus 500; total 14,500.
-- Di:  60,000 / 60,000 = 1 -> curve 1; individual 5,000; team: half the month in
--      North 10,000 x 0.5 x 0.5 x 0.5 = 1,250 + half in South 10,000 x 0.5 x 0.5 x 2
--      = 5,000 -> 6,250; bonus half of South's 500 = 250; total 11,500.
-- Eve: graduated 175,000 = 5,000 + 5,000 + 3,750 = 13,750; bonus 300 (South);
--      total 14,050.
-- Fay: retroactive 175,000 x 15 % = 26,250 (no team, no target).
SELECT * FROM salesperf.commission_statement('month', '2026-04-01');
-- Any moment of April names April; one rep answers the same line.
SELECT * FROM salesperf.commission_statement('month', '2026-04-30 23:59', 4);

-- The close.  A month that has not ended, and one out of order, are refused.
SELECT pg_temp.err($$SELECT salesperf.close_commission_period('2099-01-01')$$);
SELECT salesperf.close_commission_period('2026-04-01') AS lines_frozen;
SELECT salesperf.close_commission_period('2026-04-15') AS lines_frozen;  -- again: nothing to do
SELECT pg_temp.err($$SELECT salesperf.close_commission_period('2026-06-01')$$);
SELECT pg_temp.err($$SELECT salesperf.close_commission_period('2026-03-01')$$);
SELECT period, period_start, period_end, first_day, end_day FROM salesperf.commission_period;

-- After the close: Ada's 120,000 deal is reversed (deleted) and a 5,000 deal
-- of Cy's from 29 April is entered late.  April's statement does not move.
DELETE FROM salesperf.activity WHERE rep_id = 1 AND amount = 120000;
SELECT salesperf.record(3, 'deal_won', 5000, '2026-04-29 17:00') > 0 AS recorded;
SELECT rep_id, name, total FROM salesperf.commission_statement('month', '2026-04-01');

-- Re-run of April now:
--   North = Bo 40,000 + Di 20,000 = 60,000 / 240,000 = 0.25 -> curve 0.
--   Ada: 0 -> individual 0, team 0: earned 0, paid 9,500 -> clawback -9,500.
--   Bo:  team 0: earned 0, paid 2,500 -> -2,500.
--   Di:  North half 0 + South half 5,000 = team 5,000: earned 10,250, paid 11,500 -> -1,250.
--   Cy:  50,000 / 50,000 = 1 -> individual 5,000 (was 4,000): true-up +1,000.
--   Eve and Fay: unchanged, no line.
SELECT * FROM salesperf.commission_adjustments('month', '2026-05-01');
-- They land in May (the next open month); June, further out, has none yet.
-- In May nobody has a target and nobody sold: quota parts are 0, rate parts 0.
SELECT * FROM salesperf.commission_statement('month', '2026-05-01');
SELECT count(*) AS june_adjustments FROM salesperf.commission_adjustments('month', '2026-06-01');

-- Closing May freezes the adjustments with it.
SELECT salesperf.close_commission_period('2026-05-01') AS lines_frozen;
SELECT rep_id, for_period_start, earned_paid, earned_now, adjusted_before, amount, kind
  FROM salesperf.commission_adjustments('month', '2026-05-01');

-- The reversal is itself undone: Ada's deal comes back.  June pays back
-- what the May clawback took: earned now 9,500 = paid 9,500 + -9,500
-- clawed back + 9,500 true-up.  Cy's true-up was paid in May: no new line.
SELECT salesperf.record(1, 'deal_won', 120000, '2026-04-07 11:00') > 0 AS recorded;
SELECT rep_id, name, for_period_start, earned_paid, earned_now, adjusted_before, amount, kind
  FROM salesperf.commission_adjustments('month', '2026-06-01');

-- Plans change over time: Fay moves from Closer to Hunter for June; inside
-- a closed month the plan cannot change any more.
SELECT salesperf.assign_plan(6, 'Hunter', '2026-06-01');
SELECT rep_id, plan, during FROM salesperf.plan_assignment WHERE rep_id = 6 ORDER BY during;
SELECT rep_id, plan FROM salesperf.commission_statement('month', '2026-06-01', 6);
SELECT pg_temp.err($$SELECT salesperf.assign_plan(5, 'Closer', '2026-05-15')$$);
SELECT pg_temp.err($$SELECT salesperf.assign_plan(6, 'Closer', '2026-05-20')$$);  -- Hunter from 1 June is later
SELECT pg_temp.err($$SELECT salesperf.assign_plan(6, 'Nope', '2026-07-01')$$);
SELECT pg_temp.err($$SELECT salesperf.assign_plan(99, 'AE', '2026-07-01')$$);
-- A NULL plan takes a rep off commission.
SELECT salesperf.assign_plan(6, NULL, '2026-07-01');
SELECT count(*) AS fay_in_july FROM salesperf.commission_statement('month', '2026-07-01', 6);

-- Plans are validated when written.
SELECT pg_temp.err($$INSERT INTO salesperf.commission_plan (name, basis_kpi, period, kind, target_incentive,
       individual_weight, team_weight, curve_x, curve_y) VALUES ('W', 'revenue', 'month', 'quota', 1000, 0.6, 0.6, '{0,1}', '{0,1}')$$);
SELECT pg_temp.err($$INSERT INTO salesperf.commission_plan (name, basis_kpi, period, kind, breakpoints, rates)
       VALUES ('X', 'no_such_kpi', 'month', 'rate', '{0}', '{0.1}')$$);
SELECT pg_temp.err($$INSERT INTO salesperf.commission_plan (name, basis_kpi, period, kind, breakpoints, rates)
       VALUES ('X', 'revenue', 'fortnight', 'rate', '{0}', '{0.1}')$$);
SELECT pg_temp.err($$INSERT INTO salesperf.commission_plan (name, basis_kpi, period, kind, breakpoints, rates, curve_x)
       VALUES ('X', 'revenue', 'month', 'rate', '{0}', '{0.1}', '{0}')$$);
SELECT pg_temp.err($$UPDATE salesperf.commission_plan SET team_bonus = -1 WHERE name = 'AE'$$);
SELECT count(*) AS plans FROM salesperf.commission_plan;

-- Statement arguments.
SELECT pg_temp.err($$SELECT * FROM salesperf.commission_statement('fortnight', '2026-04-01')$$);
SELECT pg_temp.err($$SELECT * FROM salesperf.commission_statement(NULL, '2026-04-01')$$);
SELECT pg_temp.err($$SELECT * FROM salesperf.commission_statement('month', '2026-04-01', 99)$$);

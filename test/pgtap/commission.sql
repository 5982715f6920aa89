-- Commission (SPEC §10): a hand-checked April 2025 in UTC, every bad input
-- with its SQLSTATE and nothing changed after it (counts and checksums of
-- the plan, assignment and frozen tables), the close (twice, out of order,
-- not ended), what closing freezes, clawbacks in the next open month, the
-- one-rep filter against the company statement, unit_target() against
-- effective_target(), foreign keys of plans and assignments, and what a
-- reader may not do.
BEGIN;
SELECT plan(148);
SET LOCAL timezone = 'UTC';
SET LOCAL client_min_messages = warning;

-- ------------------------------------------------------------- helpers
-- Row counts and checksums of everything commission writes.
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql AS $$
SELECT concat_ws(' | ',
  (SELECT 'plans ' || count(*) || ' ' || md5(COALESCE(string_agg(t::text, ',' ORDER BY t.name), ''))
     FROM salesperf.commission_plan t),
  (SELECT 'assignments ' || count(*) || ' ' || md5(COALESCE(string_agg(t::text, ',' ORDER BY t.rep_id, lower(t.during)), ''))
     FROM salesperf.plan_assignment t),
  (SELECT 'periods ' || count(*) || ' ' || md5(COALESCE(string_agg(t::text, ',' ORDER BY t.period, t.period_start), ''))
     FROM salesperf.commission_period t),
  (SELECT 'paid ' || count(*) || ' ' || md5(COALESCE(string_agg(t::text, ',' ORDER BY t.period, t.period_start, t.rep_id), ''))
     FROM salesperf.commission_paid t),
  (SELECT 'adjustments ' || count(*) || ' '
          || md5(COALESCE(string_agg(t::text, ',' ORDER BY t.period, t.period_start, t.rep_id, t.for_period_start), ''))
     FROM salesperf.commission_adjustment t))
$$;
CREATE TEMP TABLE snap (s text);
CREATE FUNCTION pg_temp.snapshot() RETURNS void LANGUAGE sql AS $$
  DELETE FROM snap; INSERT INTO snap SELECT pg_temp.state();
$$;
CREATE FUNCTION pg_temp.unchanged(what text) RETURNS text LANGUAGE sql AS $$
  SELECT is(pg_temp.state(), (SELECT s FROM snap), what || ': nothing changed');
$$;
-- Reps whose one-rep statement differs from their row of the company's.
CREATE FUNCTION pg_temp.filter_mismatches(period text, at timestamptz) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM salesperf.rep r
   WHERE (SELECT array_agg(s::text) FROM salesperf.commission_statement(period, at, r.rep_id) s)
         IS DISTINCT FROM
         (SELECT array_agg(s::text) FROM salesperf.commission_statement(period, at) s WHERE s.rep_id = r.rep_id);
$$;

-- ------------------------------------------------------------- objects
SELECT has_table('salesperf', 'commission_plan', 'commission_plan exists');
SELECT has_table('salesperf', 'plan_assignment', 'plan_assignment exists');
SELECT has_function('salesperf', 'assign_plan', ARRAY['bigint', 'text', 'timestamp with time zone']);
SELECT has_function('salesperf', 'commission_statement', ARRAY['text', 'timestamp with time zone', 'bigint']);
SELECT has_function('salesperf', 'commission_adjustments', ARRAY['text', 'timestamp with time zone', 'bigint']);
SELECT has_function('salesperf', 'close_commission_period', ARRAY['timestamp with time zone', 'text']);

-- ------------------------------------------------------------- fixture
-- Acme with North and South; Reef inside South; Dock inside North (no
-- members, no target).  Di moves from North to South at midnight on
-- 16 April (half of April in each); Gus moves from North to South at the
-- very start of April; Fay and Hal belong to no unit.
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
  (1, NULL, 'Acme', 'company'), (11, 1, 'North', 'team'), (12, 1, 'South', 'team'),
  (13, 12, 'Reef', 'team'), (14, 11, 'Dock', 'team');
INSERT INTO salesperf.rep (rep_id, name) VALUES
  (1, 'Ada'), (2, 'Bo'), (3, 'Cy'), (4, 'Di'), (5, 'Eve'), (6, 'Fay'), (7, 'Gus'), (8, 'Hal');
SELECT salesperf.assign(r, u, '2025-01-01')
  FROM (VALUES (1, 11), (2, 11), (3, 12), (4, 11), (5, 13), (7, 11)) AS m(r, u);
SELECT salesperf.assign(4, 12, '2025-04-16');
SELECT salesperf.assign(7, 12, '2025-04-01');
SELECT FROM salesperf.define_kpi('call_avg', 'call', 'avg', unit => 'seconds', higher_is_better => false);

-- AE (quota): 10,000 at target, half on the rep and half on the team, curve
-- 0 below 50 %, 1 at 100 %, 2 from 150 %; 500 to members of a team that
-- makes its target.  Hunter (graduated) and Closer (retroactive): 5 % to
-- 100,000, 10 % to 150,000, 15 % above; Hunter pays a 300 team bonus.
INSERT INTO salesperf.commission_plan
       (name, basis_kpi, period, kind, target_incentive, individual_weight, team_weight, curve_x, curve_y, team_bonus)
VALUES ('AE', 'revenue', 'month', 'quota', 10000, 0.5, 0.5, '{0.5,1,1.5}', '{0,1,2}', 500);
INSERT INTO salesperf.commission_plan (name, basis_kpi, period, kind, breakpoints, rates, retroactive, team_bonus)
VALUES ('Hunter', 'revenue', 'month', 'rate', '{0,100000,150000}', '{0.05,0.10,0.15}', false, 300),
       ('Closer', 'revenue', 'month', 'rate', '{0,100000,150000}', '{0.05,0.10,0.15}', true, 0);
SELECT salesperf.assign_plan(r, p, '2025-01-01')
  FROM (VALUES (1, 'AE'), (2, 'AE'), (3, 'AE'), (4, 'AE'), (5, 'Hunter'), (6, 'Closer'), (7, 'AE'), (8, 'AE')) AS a(r, p);

-- Targets for April.  North = Ada 100,000 + Bo 80,000 + Di 60,000 (members
-- on 1 April) = 240,000.  Reef explicit 100,000.  South = Cy 50,000 +
-- Gus 10,000 (member from 1 April 00:00) + Reef 100,000 = 160,000.
SELECT salesperf.set_target('revenue', 'rep', r, 'month', '2025-04-01', v)
  FROM (VALUES (1, 100000), (2, 80000), (3, 50000), (4, 60000), (7, 10000)) AS t(r, v);
SELECT salesperf.set_target('revenue', 'unit', 13, 'month', '2025-04-01', 100000);

SELECT FROM (SELECT count(salesperf.record(r, 'deal_won', v, t::timestamptz))
  FROM (VALUES (1, 120000, '2025-04-07 11:00'), (2, 40000, '2025-04-08 10:00'),
               (4, 20000, '2025-04-10 15:00'), (4, 40000, '2025-04-20 09:30'),
               (3, 45000, '2025-04-21 16:00'), (5, 175000, '2025-04-22 12:00'),
               (6, 175000, '2025-04-23 12:00')) AS d(r, v, t)) x;

-- ------------------------------------------------------------- foreign keys
SELECT is((SELECT count(*)::int FROM salesperf.plan_assignment WHERE rep_id = 8), 1, 'Hal has an assignment');
DELETE FROM salesperf.rep WHERE rep_id = 8;
SELECT is((SELECT count(*)::int FROM salesperf.plan_assignment WHERE rep_id = 8), 0,
          'deleting a rep removes its plan assignments');
SELECT throws_ok($$DELETE FROM salesperf.commission_plan WHERE name = 'Closer'$$, '23503', NULL,
                 'deleting an assigned plan: 23503');
INSERT INTO salesperf.commission_plan (name, basis_kpi, period, kind, breakpoints, rates)
VALUES ('Spare', 'revenue', 'month', 'rate', '{0}', '{0.01}');
SELECT lives_ok($$DELETE FROM salesperf.commission_plan WHERE name = 'Spare'$$, 'an unassigned plan can be deleted');

-- ------------------------------------------------------------- April by hand
-- North = 120,000 + 40,000 + Di's 20,000 = 180,000 / 240,000 = 0.75 -> 0.5.
-- South (subtree) = Cy 45,000 + Eve 175,000 + Di's 40,000 = 260,000 / 160,000
-- -> 2 (cap), achieved.  Reef = 175,000 / 100,000: achieved.
-- Ada 1.2 -> 1.4: 7,000 + 2,500 = 9,500.  Bo 0.5 -> 0: team 2,500.
-- Cy 0.9 -> 0.8: 4,000 + 10,000 + 500 = 14,500.
-- Di 1 -> 5,000; team 1,250 + 5,000; bonus 250: 11,500.
-- Eve graduated 5,000 + 5,000 + 3,750 = 13,750 + Reef bonus 300 = 14,050.
-- Fay retroactive 175,000 x 15 % = 26,250.  Gus: 0 sold, South all April:
-- team 10,000 + bonus 500 = 10,500.
SELECT results_eq(
  $$SELECT rep_id, plan, individual_part, team_part, team_bonus, adjustments, total
      FROM salesperf.commission_statement('month', '2025-04-01')$$,
  $$VALUES (1::bigint, 'AE', 7000::numeric, 2500::numeric, 0::numeric, 0::numeric, 9500::numeric),
           (2, 'AE', 0, 2500, 0, 0, 2500), (3, 'AE', 4000, 10000, 500, 0, 14500),
           (4, 'AE', 5000, 6250, 250, 0, 11500), (5, 'Hunter', 13750, 0, 300, 0, 14050),
           (6, 'Closer', 26250, 0, 0, 0, 26250), (7, 'AE', 0, 10000, 500, 0, 10500)$$,
  'April statement as computed by hand');
SELECT is(pg_temp.filter_mismatches('month', '2025-04-01'), 0::bigint,
          'open April: each rep''s own statement equals their row of the company statement');

-- ------------------------------------------------------------- unit_target
SELECT is((SELECT count(*)::int FROM salesperf.unit u
            WHERE salesperf.unit_target('revenue', 'month', p.period_start, p.first_day, p.end_day, u.unit_id)
                  IS DISTINCT FROM salesperf.effective_target('revenue', 'unit', u.unit_id, 'month', p.period_start)),
          0, 'unit_target equals effective_target for every unit (explicit, derived, empty, a rep who moved)')
  FROM salesperf.target_period('2025-04-10', 'month') p;
SELECT results_eq(
  $$SELECT u.unit_id, salesperf.unit_target('revenue', 'month', p.period_start, p.first_day, p.end_day, u.unit_id)
      FROM salesperf.unit u, salesperf.target_period('2025-04-10', 'month') p ORDER BY u.unit_id$$,
  $$VALUES (1::bigint, 400000::numeric), (11, 240000), (12, 160000), (13, 100000), (14, NULL)$$,
  'unit targets: North and South derived, Reef explicit, Dock none, Acme the sum');
SELECT is((SELECT count(*)::int FROM salesperf.unit u
            WHERE salesperf.unit_target('revenue', 'month', p.period_start, p.first_day, p.end_day, u.unit_id)
                  IS DISTINCT FROM salesperf.effective_target('revenue', 'unit', u.unit_id, 'month', p.period_start)),
          0, 'unit_target equals effective_target in a month without targets')
  FROM salesperf.target_period('2025-05-10', 'month') p;

-- ------------------------------------------------------------- close
SELECT is(salesperf.close_commission_period('2025-04-01'), 7, 'closing April freezes seven lines');
CREATE TEMP TABLE april AS SELECT * FROM salesperf.commission_statement('month', '2025-04-01');
SELECT pg_temp.snapshot();
SELECT is(salesperf.close_commission_period('2025-04-30 23:59'), 0, 'closing April again returns 0');
SELECT pg_temp.unchanged('closing April again');
SELECT is(salesperf.close_commission_period('2025-04-01', 'month'), 0, 'and a third time');
SELECT pg_temp.unchanged('closing April a third time');

-- Ada's deal reversed, a late deal of Cy's on 29 April.
DELETE FROM salesperf.activity WHERE rep_id = 1 AND amount = 120000;
SELECT ok(salesperf.record(3, 'deal_won', 5000, '2025-04-29 17:00') > 0, 'back-dated deal recorded');
SELECT set_eq('SELECT * FROM salesperf.commission_statement(''month'', ''2025-04-01'')', 'SELECT * FROM april',
              'closed April does not move');
-- Re-run: North = 60,000 / 240,000 -> 0.  Ada earns 0 (-9,500), Bo 0
-- (-2,500), Di loses the North half (-1,250), Cy 50,000 / 50,000 -> 1:
-- +1,000; South is still capped.
SELECT results_eq(
  $$SELECT rep_id, for_period_start, earned_paid, earned_now, adjusted_before, amount, kind
      FROM salesperf.commission_adjustments('month', '2025-05-01')$$,
  $$VALUES (1::bigint, '2025-04-01 00:00+00'::timestamptz, 9500::numeric, 0::numeric, 0::numeric, -9500::numeric, 'clawback'),
           (2, '2025-04-01 00:00+00', 2500, 0, 0, -2500, 'clawback'),
           (3, '2025-04-01 00:00+00', 14500, 15500, 0, 1000, 'true_up'),
           (4, '2025-04-01 00:00+00', 11500, 10250, 0, -1250, 'clawback')$$,
  'May carries the clawbacks and true-ups of April');
SELECT results_eq(
  $$SELECT rep_id, adjustments, total FROM salesperf.commission_statement('month', '2025-05-01')$$,
  $$VALUES (1::bigint, -9500::numeric, -9500::numeric), (2, -2500, -2500), (3, 1000, 1000), (4, -1250, -1250),
           (5, 0, 0), (6, 0, 0), (7, 0, 0)$$,
  'May statement: adjustments in the totals');
SELECT is((SELECT count(*)::int FROM salesperf.commission_adjustments('month', '2025-06-01')), 0,
          'June, further out, carries nothing yet');
SELECT is(pg_temp.filter_mismatches('month', '2025-05-01'), 0::bigint,
          'open May: each rep''s own statement equals their row of the company statement');
SELECT is(pg_temp.filter_mismatches('month', '2025-04-01'), 0::bigint,
          'closed April: each rep''s own statement equals their row of the company statement');

-- A later assignment for Fay (from June) to test overlaps against.
SELECT lives_ok($$SELECT salesperf.assign_plan(6, 'Hunter', '2025-06-01')$$, 'Fay moves to Hunter in June');
SELECT pg_temp.snapshot();

-- ------------------------------------------------------------- bad input
-- Assignments.
SELECT throws_ok($$SELECT salesperf.assign_plan(1, 'Nope', '2025-07-01')$$, '42704', NULL, 'unknown plan: 42704');
SELECT pg_temp.unchanged('unknown plan');
SELECT throws_ok($$SELECT salesperf.assign_plan(99, 'AE', '2025-07-01')$$, '42704', NULL, 'unknown rep: 42704');
SELECT pg_temp.unchanged('unknown rep');
SELECT throws_ok($$SELECT salesperf.assign_plan(NULL, 'AE', '2025-07-01')$$, '22004', NULL, 'NULL rep: 22004');
SELECT pg_temp.unchanged('NULL rep');
SELECT throws_ok($$SELECT salesperf.assign_plan(1, 'AE', 'infinity')$$, '22008', NULL, 'infinite since: 22008');
SELECT pg_temp.unchanged('infinite since');
SELECT throws_ok($$SELECT salesperf.assign_plan(6, 'Closer', '2025-05-20')$$, '23P01', NULL,
                 'assign_plan before a later assignment: 23P01');
SELECT pg_temp.unchanged('assign_plan before a later assignment');
SELECT throws_ok($$INSERT INTO salesperf.plan_assignment (rep_id, plan, during)
                   VALUES (1, 'Hunter', tstzrange('2025-07-01', NULL, '[)'))$$, '23P01', NULL,
                 'overlapping assignment inserted directly: 23P01');
SELECT pg_temp.unchanged('overlapping direct insert');
SELECT throws_ok($$SELECT salesperf.assign_plan(5, 'Closer', '2025-04-15')$$, '22023', NULL,
                 'plan change inside a closed month: 22023');
SELECT pg_temp.unchanged('plan change inside a closed month');

-- Plans.
CREATE FUNCTION pg_temp.quota(name text, kpi text, period text, kind text, incentive numeric, wi numeric,
                              wt numeric, xs numeric[], ys numeric[], bonus numeric) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO salesperf.commission_plan
         (name, basis_kpi, period, kind, target_incentive, individual_weight, team_weight, curve_x, curve_y, team_bonus)
  VALUES (name, kpi, period, kind, incentive, wi, wt, xs, ys, bonus);
$$;
CREATE FUNCTION pg_temp.rate(name text, kpi text, period text, kind text, bps numeric[], rates numeric[],
                             retro boolean, bonus numeric) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO salesperf.commission_plan (name, basis_kpi, period, kind, breakpoints, rates, retroactive, team_bonus)
  VALUES (name, kpi, period, kind, bps, rates, retro, bonus);
$$;
SELECT throws_ok($$SELECT pg_temp.rate('X', 'nope', 'month', 'rate', '{0}', '{0.1}', false, 0)$$, '42704', NULL,
                 'unknown basis KPI: 42704');
SELECT pg_temp.unchanged('unknown basis KPI');
SELECT throws_ok($$SELECT pg_temp.rate('X', 'call_avg', 'month', 'rate', '{0}', '{0.1}', false, 0)$$, '22023', NULL,
                 'lower-is-better basis KPI: 22023');
SELECT pg_temp.unchanged('lower-is-better basis KPI');
SELECT throws_ok($$SELECT pg_temp.quota('X', 'revenue', 'month', 'quota', 1000, 0.6, 0.6, '{0,1}', '{0,1}', 0)$$,
                 '22023', NULL, 'weights adding up to 1.2: 22023');
SELECT pg_temp.unchanged('weights adding up to 1.2');
SELECT throws_ok($$SELECT pg_temp.quota('X', 'revenue', 'month', 'quota', 1000, 0.5, 0.49, '{0,1}', '{0,1}', 0)$$,
                 '22023', NULL, 'weights adding up to 0.99: 22023');
SELECT pg_temp.unchanged('weights adding up to 0.99');
SELECT throws_ok(format($$SELECT pg_temp.quota('X', 'revenue', 'month', 'quota', %s, 0.5, 0.5, '{0,1}', '{0,1}', 0)$$, v),
                 '22003', NULL, 'target_incentive ' || v || ': 22003')
  FROM unnest(ARRAY['-1', '''NaN''', '''Infinity''']) v;
SELECT pg_temp.unchanged('bad target_incentive');
SELECT throws_ok(format($$SELECT pg_temp.quota('X', 'revenue', 'month', 'quota', 1000, %s, 0, '{0,1}', '{0,1}', 0)$$, v),
                 '22003', NULL, 'individual_weight ' || v || ': 22003')
  FROM unnest(ARRAY['-0.5', '''NaN''', '''Infinity''']) v;
SELECT throws_ok($$SELECT pg_temp.quota('X', 'revenue', 'month', 'quota', 1000, 1.5, -0.5, '{0,1}', '{0,1}', 0)$$,
                 '22003', NULL, 'negative team_weight: 22003');
SELECT pg_temp.unchanged('bad weights');
SELECT throws_ok(format($$SELECT pg_temp.rate('X', 'revenue', 'month', 'rate', '{0}', '{0.1}', false, %s)$$, v),
                 '22003', NULL, 'team_bonus ' || v || ': 22003')
  FROM unnest(ARRAY['-0.01', '''NaN''', '''Infinity''']) v;
SELECT pg_temp.unchanged('bad team_bonus');
SELECT throws_ok($$SELECT pg_temp.rate(NULL, 'revenue', 'month', 'rate', '{0}', '{0.1}', false, 0)$$, '22004', NULL, 'NULL name: 22004');
SELECT throws_ok($$SELECT pg_temp.rate('X', NULL, 'month', 'rate', '{0}', '{0.1}', false, 0)$$, '22004', NULL, 'NULL basis_kpi: 22004');
SELECT throws_ok($$SELECT pg_temp.rate('X', 'revenue', NULL, 'rate', '{0}', '{0.1}', false, 0)$$, '22004', NULL, 'NULL period: 22004');
SELECT throws_ok($$SELECT pg_temp.rate('X', 'revenue', 'month', NULL, '{0}', '{0.1}', false, 0)$$, '22004', NULL, 'NULL kind: 22004');
SELECT throws_ok($$SELECT pg_temp.rate('X', 'revenue', 'month', 'rate', '{0}', '{0.1}', NULL, 0)$$, '22004', NULL, 'NULL retroactive: 22004');
SELECT throws_ok($$SELECT pg_temp.rate('X', 'revenue', 'month', 'rate', '{0}', '{0.1}', false, NULL)$$, '22004', NULL, 'NULL team_bonus: 22004');
SELECT throws_ok($$SELECT pg_temp.rate('X', 'revenue', 'month', 'rate', NULL, '{0.1}', false, 0)$$, '22004', NULL, 'rate plan without breakpoints: 22004');
SELECT throws_ok($$SELECT pg_temp.rate('X', 'revenue', 'month', 'rate', '{0}', NULL, false, 0)$$, '22004', NULL, 'rate plan without rates: 22004');
SELECT throws_ok($$SELECT pg_temp.quota('X', 'revenue', 'month', 'quota', NULL, 0.5, 0.5, '{0,1}', '{0,1}', 0)$$, '22004', NULL, 'quota plan without target_incentive: 22004');
SELECT throws_ok($$SELECT pg_temp.quota('X', 'revenue', 'month', 'quota', 1000, NULL, 0.5, '{0,1}', '{0,1}', 0)$$, '22004', NULL, 'quota plan without individual_weight: 22004');
SELECT throws_ok($$SELECT pg_temp.quota('X', 'revenue', 'month', 'quota', 1000, 0.5, 0.5, NULL, '{0,1}', 0)$$, '22004', NULL, 'quota plan without curve_x: 22004');
SELECT throws_ok($$SELECT pg_temp.quota('X', 'revenue', 'month', 'quota', 1000, 0.5, 0.5, '{0,1}', NULL, 0)$$, '22004', NULL, 'quota plan without curve_y: 22004');
SELECT pg_temp.unchanged('NULL required fields');
SELECT throws_ok($$INSERT INTO salesperf.commission_plan (name, basis_kpi, period, kind, breakpoints, rates, target_incentive)
                   VALUES ('X', 'revenue', 'month', 'rate', '{0}', '{0.1}', 1000)$$, '22023', NULL,
                 'rate plan with a target_incentive: 22023');
SELECT throws_ok($$INSERT INTO salesperf.commission_plan (name, basis_kpi, period, kind, breakpoints, rates, curve_x, curve_y)
                   VALUES ('X', 'revenue', 'month', 'rate', '{0}', '{0.1}', '{0}', '{1}')$$, '22023', NULL,
                 'rate plan with a curve: 22023');
SELECT throws_ok($$INSERT INTO salesperf.commission_plan (name, basis_kpi, period, kind, target_incentive,
                     individual_weight, team_weight, curve_x, curve_y, breakpoints, rates)
                   VALUES ('X', 'revenue', 'month', 'quota', 1000, 1, 0, '{0,1}', '{0,1}', '{0}', '{0.1}')$$, '22023', NULL,
                 'quota plan with tiers: 22023');
SELECT throws_ok($$INSERT INTO salesperf.commission_plan (name, basis_kpi, period, kind, target_incentive,
                     individual_weight, team_weight, curve_x, curve_y, retroactive)
                   VALUES ('X', 'revenue', 'month', 'quota', 1000, 1, 0, '{0,1}', '{0,1}', true)$$, '22023', NULL,
                 'retroactive quota plan: 22023');
SELECT pg_temp.unchanged('fields of the other kind');
SELECT throws_ok(format($$SELECT pg_temp.quota('X', 'revenue', 'month', 'quota', 1000, 0.5, 0.5, %L, %L, 0)$$, c.xs, c.ys),
                 '22023', NULL, 'curve ' || c.what || ': 22023')
  FROM (VALUES ('not ascending', '{1,0.5}', '{0,1}'), ('with a repeated point', '{0,1,1}', '{0,1,2}'),
               ('of mismatched lengths', '{0,1}', '{0,1,2}'), ('empty', '{}', '{}'),
               ('with a NULL x', '{0,NULL}', '{0,1}'), ('with a NULL y', '{0,1}', '{NULL,1}'),
               ('with a negative payout', '{0,1}', '{0,-1}')) AS c(what, xs, ys);
SELECT pg_temp.unchanged('bad curves');
SELECT throws_ok(format($$SELECT pg_temp.rate('X', 'revenue', 'month', 'rate', %L, %L, false, 0)$$, c.bps, c.rates),
                 '22023', NULL, 'tiers ' || c.what || ': 22023')
  FROM (VALUES ('not starting at 0', '{100,200}', '{0.1,0.2}'), ('not ascending', '{0,200,100}', '{0.1,0.2,0.3}'),
               ('with a negative rate', '{0,100}', '{0.1,-0.2}'), ('of mismatched lengths', '{0,100}', '{0.1}'),
               ('empty', '{}', '{}'), ('with a NULL breakpoint', '{0,NULL}', '{0.1,0.2}')) AS c(what, bps, rates);
SELECT pg_temp.unchanged('bad tiers');
SELECT throws_ok($$SELECT pg_temp.rate('X', 'revenue', 'month', 'fixed', '{0}', '{0.1}', false, 0)$$, '22023', NULL,
                 'unknown plan kind: 22023');
SELECT throws_ok($$SELECT pg_temp.rate('X', 'revenue', 'fortnight', 'rate', '{0}', '{0.1}', false, 0)$$, '22023', NULL,
                 'unknown plan period: 22023');
SELECT throws_ok($$UPDATE salesperf.commission_plan SET team_bonus = -1 WHERE name = 'AE'$$, '22003', NULL,
                 'an update is checked too: 22003');
SELECT pg_temp.unchanged('unknown kind and period, bad update');

-- Closing.
SELECT throws_ok($$SELECT salesperf.close_commission_period('2025-06-01')$$, '22023', NULL,
                 'closing June before May: 22023');
SELECT pg_temp.unchanged('closing with a gap');
SELECT throws_ok($$SELECT salesperf.close_commission_period('2025-03-01')$$, '22023', NULL,
                 'closing March, before the first closed month: 22023');
SELECT pg_temp.unchanged('closing before the first closed');
SELECT throws_ok($$SELECT salesperf.close_commission_period(now())$$, '22023', NULL,
                 'closing the month under way: 22023');
SELECT throws_ok($$SELECT salesperf.close_commission_period('2099-01-01')$$, '22023', NULL,
                 'closing a month of the future: 22023');
SELECT pg_temp.unchanged('closing a period that has not ended');
SELECT throws_ok($$SELECT salesperf.close_commission_period(NULL)$$, '22004', NULL, 'close with a NULL period_start: 22004');
SELECT throws_ok($$SELECT salesperf.close_commission_period('2025-05-01', NULL)$$, '22004', NULL, 'close with a NULL period: 22004');
SELECT throws_ok($$SELECT salesperf.close_commission_period('infinity')$$, '22008', NULL, 'close at infinity: 22008');
SELECT throws_ok($$SELECT salesperf.close_commission_period('-infinity')$$, '22008', NULL, 'close at -infinity: 22008');
SELECT throws_ok($$SELECT salesperf.close_commission_period('2025-05-01', 'fortnight')$$, '22023', NULL, 'close an unknown period: 22023');
SELECT pg_temp.unchanged('bad close arguments');

-- Reading.
SELECT throws_ok($$SELECT * FROM salesperf.commission_statement('month', '2025-04-01', 99)$$, '42704', NULL,
                 'statement of an unknown rep: 42704');
SELECT throws_ok($$SELECT * FROM salesperf.commission_statement('fortnight', '2025-04-01')$$, '22023', NULL,
                 'statement of an unknown period: 22023');
SELECT throws_ok($$SELECT * FROM salesperf.commission_statement(NULL, '2025-04-01')$$, '22004', NULL,
                 'statement of a NULL period: 22004');
SELECT throws_ok($$SELECT * FROM salesperf.commission_statement('month', NULL)$$, '22004', NULL,
                 'statement at a NULL moment: 22004');
SELECT throws_ok($$SELECT * FROM salesperf.commission_statement('month', 'infinity')$$, '22008', NULL,
                 'statement at infinity: 22008');
SELECT throws_ok($$SELECT * FROM salesperf.commission_adjustments('fortnight', '2025-05-01')$$, '22023', NULL,
                 'adjustments of an unknown period: 22023');
SELECT throws_ok($$SELECT * FROM salesperf.commission_adjustments('month', '-infinity')$$, '22008', NULL,
                 'adjustments at -infinity: 22008');
SELECT pg_temp.unchanged('bad reads');

-- ------------------------------------------------------------- plans renamed
UPDATE salesperf.commission_plan SET name = 'Account Executive' WHERE name = 'AE';
SELECT is((SELECT array_agg(DISTINCT plan ORDER BY plan) FROM salesperf.plan_assignment WHERE rep_id IN (1, 2, 3, 4, 7)),
          ARRAY['Account Executive'], 'renaming a plan renames its assignments');
SELECT is((SELECT count(*)::int FROM salesperf.commission_statement('month', '2025-05-01') WHERE plan = 'Account Executive'),
          5, 'the open month pays under the new name');
SELECT set_eq('SELECT * FROM salesperf.commission_statement(''month'', ''2025-04-01'')', 'SELECT * FROM april',
              'the closed month still names the plan as it was');

-- ------------------------------------------------------------- closing May
SELECT is(salesperf.close_commission_period('2025-05-01'), 7, 'closing May freezes seven lines');
SELECT is((SELECT sum(amount) FROM salesperf.commission_adjustment WHERE period_start = '2025-05-01'), -12250::numeric,
          'May froze the four adjustment lines');
SELECT is((SELECT count(*)::int FROM salesperf.commission_adjustments('month', '2025-06-01')), 0,
          'nothing changed since: June carries nothing');
-- Ada's deal comes back: June pays back the May clawback.
SELECT ok(salesperf.record(1, 'deal_won', 120000, '2025-04-07 11:00') > 0, 'Ada''s deal restored');
SELECT results_eq(
  $$SELECT rep_id, earned_paid, earned_now, adjusted_before, amount FROM salesperf.commission_adjustments('month', '2025-06-01')$$,
  $$VALUES (1::bigint, 9500::numeric, 9500::numeric, -9500::numeric, 9500::numeric),
           (2, 2500, 2500, -2500, 2500), (4, 11500, 11500, -1250, 1250)$$,
  'June pays back what May clawed back; Cy''s true-up stays paid');
SELECT is(pg_temp.filter_mismatches('month', '2025-06-01'), 0::bigint,
          'open June: each rep''s own statement equals their row of the company statement');

-- ------------------------------------------------------------- precision
-- A curve point computed by a division (2/3.0 has 20 decimals) and an
-- attainment that is not on a point (1,000 / 3,000): the plan is either
-- refused when written or paid, never an error in every statement of the
-- month.  payout_curve(1/3, {0,1}, {0,2/3}) = 2/9: 1,000 x 2/9 = 222.22.
INSERT INTO salesperf.rep (rep_id, name) VALUES (9, 'Ivy');
CREATE FUNCTION pg_temp.thirds() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        INSERT INTO salesperf.commission_plan
               (name, basis_kpi, period, kind, target_incentive, individual_weight, team_weight, curve_x, curve_y)
        VALUES ('Thirds', 'revenue', 'month', 'quota', 1000, 1, 0, '{0,1}', ARRAY[0, 2 / 3.0]);
    EXCEPTION WHEN OTHERS THEN
        RETURN 'refused when written: ' || SQLSTATE;
    END;
    PERFORM salesperf.assign_plan(9, 'Thirds', '2025-09-01');
    PERFORM salesperf.set_target('revenue', 'rep', 9, 'month', '2025-09-01', 3000);
    PERFORM salesperf.record(9, 'deal_won', 1000, '2025-09-10 12:00');
    RETURN (SELECT s.total::text FROM salesperf.commission_statement('month', '2025-09-01') s WHERE s.rep_id = 9);
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
SELECT matches(pg_temp.thirds(), '^(222\.22|refused when written: 22\d\d\d)$',
               'a curve point with 20 decimals: the plan is refused when written or the month''s statement pays it');
-- An amount with 31 decimals in the ledger (record() takes it): the
-- attainment (quota) and the basis (rate) carry them; the statement of the
-- month must still be computed.
SELECT ok(salesperf.record(1, 'deal_won', 1000.0000000000000000000000000000001, '2025-10-10 12:00') > 0,
          'a deal with 31 decimals is recorded');
SELECT salesperf.set_target('revenue', 'rep', 1, 'month', '2025-10-01', 3000);
SELECT lives_ok($$SELECT * FROM salesperf.commission_statement('month', '2025-10-01')$$,
                'a quota line whose attainment has 31 decimals does not break the month''s statement');
SELECT ok(salesperf.record(5, 'deal_won', 0.0000000000000000000000000000001, '2025-10-11 12:00') > 0,
          'a deal with 31 decimals for a rate plan is recorded');
SELECT lives_ok($$SELECT * FROM salesperf.commission_statement('month', '2025-10-01', 5)$$,
                'a rate line whose basis has 31 decimals does not break the statement');

-- ------------------------------------------------------------- a reader
CREATE ROLE regress_commission_reader;
SELECT salesperf.grant_access('regress_commission_reader', 'reader');
SELECT pg_temp.snapshot();
SET LOCAL ROLE regress_commission_reader;
SELECT lives_ok($$SELECT * FROM salesperf.commission_statement('month', '2025-04-01')$$, 'a reader reads statements');
SELECT lives_ok($$SELECT * FROM salesperf.commission_paid$$, 'a reader reads commission_paid');
SELECT throws_ok($$INSERT INTO salesperf.commission_paid SELECT * FROM salesperf.commission_paid LIMIT 1$$, '42501', NULL,
                 'a reader cannot insert into commission_paid');
SELECT throws_ok($$UPDATE salesperf.commission_paid SET total = total + 1$$, '42501', NULL,
                 'a reader cannot update commission_paid');
SELECT throws_ok($$DELETE FROM salesperf.commission_paid$$, '42501', NULL, 'a reader cannot delete commission_paid');
SELECT throws_ok($$UPDATE salesperf.commission_period SET closed_by = 'x'$$, '42501', NULL,
                 'a reader cannot update commission_period');
SELECT throws_ok($$DELETE FROM salesperf.commission_period$$, '42501', NULL, 'a reader cannot delete commission_period');
SELECT throws_ok($$INSERT INTO salesperf.commission_period (period, period_start, period_end, first_day, end_day)
                   VALUES ('month', '2025-06-01', '2025-07-01', '2025-06-01', '2025-07-01')$$, '42501', NULL,
                 'a reader cannot insert into commission_period');
SELECT throws_ok($$UPDATE salesperf.commission_adjustment SET amount = 0$$, '42501', NULL,
                 'a reader cannot update commission_adjustment');
SELECT throws_ok($$DELETE FROM salesperf.commission_adjustment$$, '42501', NULL,
                 'a reader cannot delete commission_adjustment');
SELECT throws_ok($$SELECT salesperf.close_commission_period('2025-06-01')$$, '42501', NULL,
                 'a reader cannot close a period');
SELECT throws_ok($$SELECT salesperf.assign_plan(1, 'Hunter', '2025-08-01')$$, '42501', NULL,
                 'a reader cannot assign plans');
RESET ROLE;
SELECT pg_temp.unchanged('a reader''s attempts');

SELECT * FROM finish();
ROLLBACK;

-- Targets: objects and comments, every bad input with its SQLSTATE and
-- nothing changed, normalization of period starts, a lower-is-better KPI,
-- a rate KPI, a company target (explicit and rolled up), the one-rep filter
-- against the full answer, and forecast().target.
--
-- June 2026 (30 days) in UTC, seen at 00:00 on 16 June: elapsed = 0.5.
BEGIN;
SELECT plan(82);
SET LOCAL timezone = 'UTC';

-- ------------------------------------------------------------- objects
SELECT has_table('salesperf', 'target', 'target table exists');
SELECT has_view('salesperf', 'target_progress', 'target_progress view exists');
SELECT has_function('salesperf', 'set_target',
  ARRAY['text', 'text', 'bigint', 'text', 'timestamp with time zone', 'numeric']);
SELECT has_function('salesperf', 'effective_target',
  ARRAY['text', 'text', 'bigint', 'text', 'timestamp with time zone']);
SELECT has_function('salesperf', 'target_progress_at', ARRAY['timestamp with time zone', 'text', 'bigint']);
SELECT columns_are('salesperf', 'target_progress',
  ARRAY['kpi', 'scope', 'scope_id', 'name', 'period', 'period_start', 'period_end', 'target', 'actual',
        'attainment', 'elapsed', 'expected_to_date', 'projected', 'status'],
  'target_progress has exactly the columns of SPEC §7');
SELECT is((SELECT count(*)::int FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = 'salesperf.target_progress'::regclass AND a.attnum > 0
              AND pg_catalog.col_description(a.attrelid, a.attnum) IS NULL), 0,
          'every column of target_progress has a comment');
SELECT ok(pg_catalog.obj_description('salesperf.target_progress'::regclass, 'pg_class') IS NOT NULL,
          'target_progress has a comment');
SELECT is((SELECT count(*)::int FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = 'salesperf'::regnamespace
              AND p.proname IN ('set_target', 'effective_target', 'target_progress_at', 'targets_at',
                                'target_tree', 'target_period', 'target_check')
              AND pg_catalog.obj_description(p.oid, 'pg_proc') IS NULL
              AND p.proname <> 'target_check'), 0,
          'every target function has a comment');
SELECT ok(EXISTS (SELECT 1 FROM pg_catalog.pg_extension e
                   WHERE e.extname = 'salesperf' AND 'salesperf.target'::regclass = ANY (e.extconfig)),
          'target is dumped as configuration');
SELECT ok(EXISTS (SELECT 1 FROM salesperf.access_privileges('admin') p
                   WHERE p.object_name LIKE 'salesperf.set_target(%')
          AND NOT EXISTS (SELECT 1 FROM salesperf.access_privileges('reader') p
                           WHERE p.object_name LIKE 'salesperf.set_target(%'),
          'set_target is admin-level only');
SELECT ok(EXISTS (SELECT 1 FROM salesperf.access_privileges('reader') p
                   WHERE p.object_name LIKE 'salesperf.target_progress_at(%'),
          'readers may call target_progress_at');

-- ------------------------------------------------------------- fixture
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
  (1, NULL, 'Acme', 'company'), (11, 1, 'North', 'team'), (12, 1, 'South', 'team');
INSERT INTO salesperf.rep (rep_id, name) VALUES
  (1, 'Ada'), (2, 'Bo'), (3, 'Cy'), (4, 'Di'), (5, 'Eve');
SELECT salesperf.assign(r, u, '2026-01-01') FROM (VALUES (1, 11), (2, 11), (3, 12), (4, 12)) AS m(r, u);
SELECT salesperf.set_target('revenue', 'rep', 1, 'month', '2026-06-01', 1000);
SELECT salesperf.set_target('revenue', 'rep', 3, 'month', '2026-06-01', 3000);
SELECT salesperf.set_target('calls', 'rep', 2, 'week', '2026-06-15', 50);

CREATE TEMP TABLE before_bad AS SELECT * FROM salesperf.target;

-- ------------------------------------------------------------- bad input
SELECT throws_ok($$SELECT salesperf.set_target(NULL, 'rep', 1, 'month', '2026-06-01', 1)$$, '22004', NULL, 'NULL kpi: 22004');
SELECT throws_ok($$SELECT salesperf.set_target('revenue', NULL, 1, 'month', '2026-06-01', 1)$$, '22004', NULL, 'NULL scope: 22004');
SELECT throws_ok($$SELECT salesperf.set_target('revenue', 'rep', 1, NULL, '2026-06-01', 1)$$, '22004', NULL, 'NULL period: 22004');
SELECT throws_ok($$SELECT salesperf.set_target('revenue', 'rep', 1, 'month', NULL, 1)$$, '22004', NULL, 'NULL period_start: 22004');
SELECT throws_ok($$SELECT salesperf.set_target('revenue', 'rep', NULL, 'month', '2026-06-01', 1)$$, '22004', NULL, 'rep without scope_id: 22004');
SELECT throws_ok($$SELECT salesperf.set_target('revenue', 'unit', NULL, 'month', '2026-06-01', 1)$$, '22004', NULL, 'unit without scope_id: 22004');
SELECT throws_ok($$SELECT salesperf.set_target('nope', 'rep', 1, 'month', '2026-06-01', 1)$$, '42704', 'unknown KPI "nope"', 'unknown KPI: 42704');
SELECT throws_ok($$SELECT salesperf.set_target('revenue', 'rep', 99, 'month', '2026-06-01', 1)$$, '42704', 'unknown rep 99', 'unknown rep: 42704');
SELECT throws_ok($$SELECT salesperf.set_target('revenue', 'unit', 99, 'month', '2026-06-01', 1)$$, '42704', 'unknown unit 99', 'unknown unit: 42704');
SELECT throws_ok($$SELECT salesperf.set_target('revenue', 'team', 11, 'month', '2026-06-01', 1)$$, '22023', 'unknown scope "team"', 'unknown scope: 22023');
SELECT throws_ok($$SELECT salesperf.set_target('revenue', 'rep', 1, 'fortnight', '2026-06-01', 1)$$, '22023', 'unknown period "fortnight"', 'unknown period: 22023');
SELECT throws_ok($$SELECT salesperf.set_target('revenue', 'rep', 1, 'all', '2026-06-01', 1)$$, '22023', NULL, 'period all has no targets: 22023');
SELECT throws_ok($$SELECT salesperf.set_target('revenue', 'rep', 1, 'month', '2026-06-01', -0.01)$$, '22003', NULL, 'negative value: 22003');
SELECT throws_ok($$SELECT salesperf.set_target('revenue', 'rep', 1, 'month', '2026-06-01', 'NaN')$$, '22003', NULL, 'NaN value: 22003');
SELECT throws_ok($$SELECT salesperf.set_target('revenue', 'rep', 1, 'month', '2026-06-01', 'Infinity')$$, '22003', NULL, 'infinite value: 22003');
SELECT throws_ok($$SELECT salesperf.set_target('revenue', 'rep', 1, 'month', '2026-06-01', '-Infinity')$$, '22003', NULL, 'minus infinity: 22003');
SELECT throws_ok($$SELECT salesperf.set_target('revenue', 'rep', 1, 'month', 'infinity', 1)$$, '22008', NULL, 'infinite period_start: 22008');
-- Direct writes (admin DML) are checked the same way.
SELECT throws_ok($$INSERT INTO salesperf.target (kpi, scope, scope_id, period, period_start, start_day, value)
                   VALUES ('nope', 'rep', 1, 'month', '2026-06-01', '2026-06-01', 1)$$, '42704', NULL, 'direct insert, unknown KPI: 42704');
SELECT throws_ok($$INSERT INTO salesperf.target (kpi, scope, scope_id, period, period_start, start_day, value)
                   VALUES ('revenue', 'rep', 99, 'month', '2026-06-01', '2026-06-01', 1)$$, '42704', NULL, 'direct insert, unknown rep: 42704');
SELECT throws_ok($$INSERT INTO salesperf.target (kpi, scope, scope_id, period, period_start, start_day, value)
                   VALUES ('revenue', 'region', 1, 'month', '2026-06-01', '2026-06-01', 1)$$, '22023', NULL, 'direct insert, unknown scope: 22023');
SELECT throws_ok($$INSERT INTO salesperf.target (kpi, scope, scope_id, period, period_start, start_day, value)
                   VALUES ('revenue', 'rep', 1, 'month', '2026-06-01', '2026-06-01', 'NaN')$$, '22003', NULL, 'direct insert, NaN: 22003');
SELECT throws_ok($$UPDATE salesperf.target SET value = -5 WHERE scope_id = 1$$, '22003', NULL, 'direct update, negative: 22003');
SELECT throws_ok($$UPDATE salesperf.target SET period = 'hour' WHERE scope_id = 1$$, '22023', NULL, 'direct update, unknown period: 22023');
-- Reads.
SELECT throws_ok($$SELECT salesperf.effective_target(NULL, 'unit', 11, 'month', '2026-06-01')$$, '22004', NULL, 'effective_target NULL kpi: 22004');
SELECT throws_ok($$SELECT salesperf.effective_target('revenue', 'unit', 11, 'month', NULL)$$, '22004', NULL, 'effective_target NULL period_start: 22004');
SELECT throws_ok($$SELECT salesperf.effective_target('nope', 'unit', 11, 'month', '2026-06-01')$$, '42704', NULL, 'effective_target unknown KPI: 42704');
SELECT throws_ok($$SELECT salesperf.effective_target('revenue', 'unit', 99, 'month', '2026-06-01')$$, '42704', NULL, 'effective_target unknown unit: 42704');
SELECT throws_ok($$SELECT salesperf.effective_target('revenue', 'rep', 99, 'month', '2026-06-01')$$, '42704', NULL, 'effective_target unknown rep: 42704');
SELECT throws_ok($$SELECT salesperf.effective_target('revenue', 'galaxy', 1, 'month', '2026-06-01')$$, '22023', NULL, 'effective_target unknown scope: 22023');
SELECT throws_ok($$SELECT salesperf.effective_target('revenue', 'unit', 11, 'decade', '2026-06-01')$$, '22023', NULL, 'effective_target unknown period: 22023');
SELECT throws_ok($$SELECT * FROM salesperf.target_progress_at(NULL)$$, '22004', NULL, 'target_progress_at(NULL): 22004');
SELECT throws_ok($$SELECT * FROM salesperf.target_progress_at('2026-06-16', 'galaxy')$$, '22023', NULL, 'target_progress_at unknown scope: 22023');
SELECT results_eq($$SELECT * FROM salesperf.target ORDER BY kpi, scope, scope_id$$,
                  $$SELECT * FROM before_bad ORDER BY kpi, scope, scope_id$$,
                  'bad input changed no target');

-- ------------------------------------------------------------- normalization
SELECT salesperf.set_target('revenue', 'rep', 2, 'month', '2026-06-23 17:45', 2000);
SELECT is((SELECT period_start FROM salesperf.target WHERE scope = 'rep' AND scope_id = 2 AND kpi = 'revenue'),
          '2026-06-01 00:00+00'::timestamptz, 'a moment inside June is stored as the start of June');
INSERT INTO salesperf.target (kpi, scope, scope_id, period, period_start, start_day, value)
VALUES ('revenue', 'rep', 4, 'month', '2026-06-09 08:00', '1999-01-01', 400);
SELECT is((SELECT (period_start, start_day)::text FROM salesperf.target WHERE scope = 'rep' AND scope_id = 4),
          ('2026-06-01 00:00+00'::timestamptz, '2026-06-01'::date)::text,
          'a direct insert is normalized too (period_start and start_day)');
SELECT salesperf.set_target('revenue', 'company', 42, 'month', '2026-06-01', 9000);
SELECT is((SELECT scope_id FROM salesperf.target WHERE scope = 'company'), NULL::bigint,
          'the company''s scope_id is ignored (stored NULL)');
SELECT salesperf.set_target('revenue', 'company', NULL, 'month', '2026-06-05', 9500);
SELECT is((SELECT count(*)::int FROM salesperf.target WHERE scope = 'company'), 1,
          'one company target per period (NULLS NOT DISTINCT): the second call replaced it');
SELECT is((SELECT value FROM salesperf.target WHERE scope = 'company'), 9500::numeric, 'with the new value');

-- ------------------------------------------------------------- company target
-- Reps: Ada 1000, Bo 2000 (North = 3000), Cy 3000, Di 400 (South = 3400),
-- Acme = 6400.  Eve is in no unit; with a target she adds to the company.
SELECT is(salesperf.effective_target('revenue', 'company', NULL, 'month', '2026-06-16'), 9500::numeric,
          'an explicit company target wins');
SELECT is((SELECT target FROM salesperf.target_progress_at('2026-06-16') WHERE kpi = 'revenue' AND scope = 'company'),
          9500::numeric, 'target_progress shows the explicit company target');
SELECT is(salesperf.effective_target('revenue', 'unit', 1, 'month', '2026-06-16'), 6400::numeric,
          'the root unit sums its teams');
SELECT salesperf.set_target('revenue', 'company', NULL, 'month', '2026-06-01', NULL);
SELECT salesperf.set_target('revenue', 'rep', 5, 'month', '2026-06-01', 600);
SELECT is(salesperf.effective_target('revenue', 'company', NULL, 'month', '2026-06-16'), 7000::numeric,
          'without one, the company = root units + reps in no unit (6400 + 600)');
SELECT is(salesperf.effective_target('revenue', 'unit', 11, 'month', '2026-07-01'), NULL::numeric,
          'no target anywhere below: NULL');
SELECT is(salesperf.effective_target('revenue', 'company', NULL, 'month', '2026-07-01'), NULL::numeric,
          'no target at all: the company has none');
SELECT salesperf.set_target('revenue', 'unit', 12, 'month', '2026-06-01', 5000);
SELECT is(salesperf.effective_target('revenue', 'unit', 1, 'month', '2026-06-16'), 8000::numeric,
          'an explicit team target replaces its members'' sum above it (3000 + 5000)');

-- ------------------------------------------------------------- progress
-- Revenue so far (16 June 00:00, elapsed 0.5): Ada 600, Bo 900, Cy 3100, Di 150.
SELECT count(salesperf.record(r, 'deal_won', a, t::timestamptz))
  FROM (VALUES (1, 600, '2026-06-03 10:00'), (2, 900, '2026-06-10 10:00'),
               (3, 3100, '2026-06-12 10:00'), (4, 150, '2026-06-15 23:00'),
               (1, 5000, '2026-06-20 10:00')) AS d(r, a, t);
SELECT results_eq(
  $$SELECT scope_id, target, actual, elapsed, expected_to_date, projected, status
      FROM salesperf.target_progress_at('2026-06-16 00:00') WHERE kpi = 'revenue' AND scope = 'rep' ORDER BY scope_id$$,
  $$VALUES (1::bigint, 1000::numeric, 600::numeric, 0.5::numeric, 500::numeric, 1200::numeric, 'on_track'::text),
           (2, 2000, 900, 0.5, 1000, 1800, 'behind'),
           (3, 3000, 3100, 0.5, 1500, 6200, 'achieved'),
           (4, 400, 150, 0.5, 200, 300, 'at_risk'),
           (5, 600, 0, 0.5, 300, 0, 'at_risk')$$,
  'reps: pace at elapsed 0.5 and every status (a deal after the moment does not count)');
SELECT is((SELECT attainment FROM salesperf.target_progress_at('2026-06-16 00:00', 'rep', 3) WHERE kpi = 'revenue'),
          3100 / 3000::numeric, 'attainment = actual / target');
SELECT is((SELECT (projected IS NULL AND status = 'on_track' AND elapsed = 0)
             FROM salesperf.target_progress_at('2026-06-01 00:00', 'rep', 4) WHERE kpi = 'revenue'),
          true, 'at the first instant: elapsed 0, projected NULL, on_track');
SELECT set_eq(
  $$SELECT * FROM salesperf.target_progress_at('2026-06-16 00:00', 'rep', 2)$$,
  $$SELECT * FROM salesperf.target_progress_at('2026-06-16 00:00') WHERE scope = 'rep' AND scope_id = 2$$,
  'the one-rep filter gives that rep''s rows of the full answer');
SELECT set_eq(
  $$SELECT * FROM salesperf.target_progress_at('2026-06-16 00:00', 'unit', 11)$$,
  $$SELECT * FROM salesperf.target_progress_at('2026-06-16 00:00') WHERE scope = 'unit' AND scope_id = 11$$,
  'the one-unit filter gives that unit''s rows of the full answer');
SELECT set_eq(
  $$SELECT * FROM salesperf.target_progress_at('2026-06-16 00:00', 'company')$$,
  $$SELECT * FROM salesperf.target_progress_at('2026-06-16 00:00') WHERE scope = 'company'$$,
  'the company filter gives the company rows');
SELECT is((SELECT count(*)::int FROM salesperf.target_progress_at('2026-06-16 00:00', 'rep', 2) WHERE kpi = 'calls'), 1,
          'a weekly calls target is in force in the week containing the moment');
SELECT is((SELECT elapsed FROM salesperf.target_progress_at('2026-06-16 00:00', 'rep', 2) WHERE kpi = 'calls'),
          trim_scale(1 / 7::numeric), 'week of Monday 15 June: one day of seven gone');
SELECT is((SELECT count(*)::int FROM salesperf.target_progress_at('2026-06-22 00:00', 'rep', 2) WHERE kpi = 'calls'), 0,
          'the next week has no calls target');
SELECT is((SELECT count(*)::int FROM salesperf.target_progress WHERE period_start > now()), 0,
          'the view is the twin at now(): nothing from a later period');

-- Rolled-up rows: North = Ada 1000 + Bo 2000, actual 600 + 900 = 1500, projected 3000: on_track.
-- South explicit 5000, actual 3100 + 150 = 3250, projected 6500: on_track.
-- Acme = 3000 + 5000 = 8000; company = 8000 + Eve 600 = 8600; actual 4750, projected 9500.
SELECT results_eq(
  $$SELECT scope, scope_id, target, actual, projected, status FROM salesperf.target_progress_at('2026-06-16 00:00')
     WHERE kpi = 'revenue' AND scope <> 'rep' ORDER BY scope, scope_id$$,
  $$VALUES ('company'::text, NULL::bigint, 8600::numeric, 4750::numeric, 9500::numeric, 'on_track'::text),
           ('unit', 1, 8000, 4750, 9500, 'on_track'),
           ('unit', 11, 3000, 1500, 3000, 'on_track'),
           ('unit', 12, 5000, 3250, 6500, 'on_track')$$,
  'units and company: targets rolled up, actuals from counters');

-- ------------------------------------------------------------- lower is better
-- Lost deals: a ceiling of 10 for June.  At elapsed 0.5: 4 lost projects 8
-- (on_track), 6 projects 12 <= 12.5 (behind), 7 projects 14 (at_risk), 11 is
-- already above the ceiling (at_risk); achieved only once the month is over.
SELECT salesperf.define_kpi('lost_deals', 'deal_lost', 'count', higher_is_better => false);
SELECT salesperf.set_target('lost_deals', 'rep', r, 'month', '2026-06-01', 10) FROM generate_series(1, 4) r;
SELECT count(salesperf.record(r, 'deal_lost', 1, '2026-06-02 10:00'::timestamptz + i * interval '1 hour'))
  FROM (VALUES (1, 4), (2, 6), (3, 7), (4, 11)) AS v(r, n), generate_series(1, n) i;
SELECT results_eq(
  $$SELECT scope_id, actual, projected, status FROM salesperf.target_progress_at('2026-06-16 00:00')
     WHERE kpi = 'lost_deals' AND scope = 'rep' ORDER BY scope_id$$,
  $$VALUES (1::bigint, 4::numeric, 8::numeric, 'on_track'::text), (2, 6, 12, 'behind'),
           (3, 7, 14, 'at_risk'), (4, 11, 22, 'at_risk')$$,
  'lower is better: on_track, behind (<= target / 0.8), at_risk');
SELECT is((SELECT status FROM salesperf.target_progress_at('2026-06-30 23:59', 'rep', 4) WHERE kpi = 'lost_deals'),
          'at_risk', 'lower is better: above the ceiling stays at_risk to the end');
SELECT is((SELECT status FROM salesperf.target_progress_at('2026-06-30 23:59', 'rep', 1) WHERE kpi = 'lost_deals'),
          'on_track', 'lower is better: below the ceiling near the end is on_track, not yet achieved');
SELECT is(salesperf.effective_target('lost_deals', 'unit', 1, 'month', '2026-06-16'), 40::numeric,
          'a lower-is-better target rolls up like any other');

-- ------------------------------------------------------------- rate KPI
-- A ratio does not accrue: projected is its value so far, expected_to_date the target.
SELECT salesperf.set_target('conversion_rate', 'rep', 5, 'month', '2026-06-01', 0.25);
SELECT salesperf.record(5, 'lead_created', 1, t::timestamptz)
  FROM (VALUES ('2026-06-02 09:00'), ('2026-06-03 09:00'), ('2026-06-04 09:00'), ('2026-06-05 09:00'),
               ('2026-06-06 09:00')) AS l(t);
SELECT salesperf.record(5, 'lead_converted', 1, '2026-06-07 09:00');
SELECT results_eq(
  $$SELECT actual, expected_to_date, projected, status FROM salesperf.target_progress_at('2026-06-16', 'rep', 5)
     WHERE kpi = 'conversion_rate'$$,
  $$VALUES (0.2::numeric, 0.25::numeric, 0.2::numeric, 'behind'::text)$$,
  'ratio KPI: 1 of 5 = 0.2 against 0.25 is behind (>= 0.8 x 0.25), not on track');
SELECT is((SELECT status FROM salesperf.target_progress_at('2026-06-16', 'rep', 1) WHERE kpi = 'conversion_rate'),
          NULL, 'no conversion target for Ada: no row');

-- ------------------------------------------------------------- membership as of period start
-- Bo moves to South on 20 June: June's North still counts him, July's South does.
SELECT salesperf.assign(2, 12, '2026-06-20');
SELECT salesperf.set_target('revenue', 'rep', 2, 'month', '2026-07-01', 700);
SELECT is(salesperf.effective_target('revenue', 'unit', 11, 'month', '2026-06-25'), 3000::numeric,
          'June: Bo still counts for North (member on 1 June)');
SELECT is(salesperf.effective_target('revenue', 'unit', 12, 'month', '2026-07-10'), 700::numeric,
          'July: Bo counts for South');
SELECT is(salesperf.effective_target('revenue', 'unit', 11, 'month', '2026-07-10'), NULL::numeric,
          'July: North has nothing to sum');

-- ------------------------------------------------------------- forecast
SELECT results_eq(
  $$SELECT unit_id, target FROM salesperf.forecast('month', '2026-06-16') ORDER BY unit_id$$,
  $$SELECT u.unit_id, salesperf.effective_target('revenue', 'unit', u.unit_id, 'month', '2026-06-16')
      FROM salesperf.unit u ORDER BY u.unit_id$$,
  'forecast().target is each unit''s effective revenue target of the period');
SELECT is((SELECT target FROM salesperf.forecast('month', '2026-06-16') WHERE unit_id = 1), 8000::numeric,
          'forecast target of Acme: 8000');
SELECT is((SELECT count(*)::int FROM salesperf.forecast('quarter', '2026-06-16') WHERE target IS NOT NULL), 0,
          'no quarterly revenue target: the quarter forecast has none');

-- ------------------------------------------------------------- cascades
DELETE FROM salesperf.membership WHERE rep_id = 5;
DELETE FROM salesperf.activity WHERE rep_id = 5;
DELETE FROM salesperf.rep WHERE rep_id = 5;
SELECT is((SELECT count(*)::int FROM salesperf.target WHERE scope = 'rep' AND scope_id = 5), 0,
          'a deleted rep takes its targets along');

-- A target import: set_target() finds the key's stored rows by its index on
-- (scope_id, scope), not by reading every target of the period (through
-- the index on period and start day, or a scan: either made an import of
-- n reps' targets in one transaction read n^2/2 rows).
INSERT INTO salesperf.rep (rep_id, name) SELECT 10000 + r, 'Import ' || r FROM generate_series(1, 300) r;
CREATE TEMP TABLE read_before AS
SELECT COALESCE(sum(idx_tup_fetch + seq_tup_read), 0) AS n FROM pg_stat_xact_user_tables
 WHERE schemaname = 'salesperf' AND relname = 'target';
SELECT count(salesperf.set_target('calls', 'rep', 10000 + r, 'month', '2026-09-01', r)) FROM generate_series(1, 300) r;
SELECT cmp_ok((SELECT COALESCE(sum(idx_tup_fetch + seq_tup_read), 0) FROM pg_stat_xact_user_tables
                WHERE schemaname = 'salesperf' AND relname = 'target') - (SELECT n FROM read_before),
              '<', 3000::numeric,
              '300 reps'' targets set one by one read a few target rows each, not every target of the period');

SELECT * FROM finish();
ROLLBACK;

-- Pipeline and forecast: objects, deal activities, CRM mirroring, roll-up
-- sums (each unit = its children + its own deals), adjustments, snapshots,
-- and every bad input with its SQLSTATE.
BEGIN;
SELECT plan(105);
SET LOCAL timezone = 'UTC';

SELECT has_table('salesperf', 'stage', 'stage table exists');
SELECT has_table('salesperf', 'opportunity', 'opportunity table exists');
SELECT has_table('salesperf', 'opportunity_source', 'opportunity_source table exists');
SELECT has_table('salesperf', 'forecast_adjustment', 'forecast_adjustment table exists');
SELECT has_table('salesperf', 'forecast_snapshot', 'forecast_snapshot table exists');
SELECT has_view('salesperf', 'forecast_accuracy', 'forecast_accuracy view exists');
SELECT has_function('salesperf', 'upsert_opportunity',
  ARRAY['text', 'text', 'bigint', 'numeric', 'text', 'date', 'timestamp with time zone', 'timestamp with time zone']);
SELECT has_function('salesperf', 'track_opportunities',
  ARRAY['regclass', 'name', 'name', 'name', 'name', 'name', 'name', 'name']);
SELECT has_function('salesperf', 'untrack_opportunities', ARRAY['regclass', 'boolean']);
SELECT has_function('salesperf', 'forecast', ARRAY['text', 'timestamp with time zone']);
SELECT has_function('salesperf', 'adjust_forecast', ARRAY['bigint', 'timestamp with time zone', 'numeric', 'text']);
SELECT has_function('salesperf', 'cumulative_forecast', ARRAY['integer', 'timestamp with time zone']);
SELECT has_function('salesperf', 'snapshot_forecast', ARRAY['text', 'timestamp with time zone']);
SELECT is((SELECT count(*)::int FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = 'salesperf.forecast_accuracy'::regclass AND a.attnum > 0
              AND pg_catalog.col_description(a.attrelid, a.attnum) IS NULL), 0,
          'every column of forecast_accuracy has a comment');
SELECT is((SELECT count(*)::int FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = 'salesperf'::regnamespace
              AND p.proname IN ('stage_check', 'set_stage', 'opportunity_check', 'opportunity_activities',
                                'opportunity_truncated', 'stage_changed', 'upsert_opportunity',
                                'opportunity_source_rows', 'opportunity_source_sql', 'opportunity_source_changed',
                                'track_opportunities',
                                'untrack_opportunities', 'forecast_deals', 'adjust_forecast', 'forecast',
                                'cumulative_forecast', 'snapshot_forecast')
              AND pg_catalog.obj_description(p.oid, 'pg_proc') IS NOT NULL), 17,
          'every pipeline function has a comment');
SELECT is((SELECT count(*)::int FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = 'salesperf'::regnamespace AND p.prolang <> 13  -- not C
              AND p.proname IN ('set_stage', 'upsert_opportunity', 'track_opportunities', 'forecast',
                                'adjust_forecast', 'cumulative_forecast', 'forecast_deals')
              AND NOT p.prosecdef
              AND 'search_path=pg_catalog, pg_temp' = ANY (p.proconfig)), 7,
          'pipeline functions pin search_path and are not SECURITY DEFINER (snapshot_forecast writes a derived table: it is)');

-- Acme: two regions, three teams; Fay sells for EMEA directly.
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
  (1, NULL, 'Acme', 'company'), (10, 1, 'EMEA', 'region'), (20, 1, 'Americas', 'region'),
  (11, 10, 'Paris', 'team'), (12, 10, 'Berlin', 'team'), (21, 20, 'New York', 'team');
INSERT INTO salesperf.rep (rep_id, name) VALUES
  (1, 'Ada'), (2, 'Bo'), (3, 'Cy'), (4, 'Di'), (5, 'Eve'), (6, 'Fay');
SELECT salesperf.assign(r, u, '2026-01-01')
  FROM (VALUES (1, 11), (2, 11), (3, 12), (4, 21), (5, 21), (6, 10)) AS m(r, u);

-- Stages
SELECT is((SELECT pg_catalog.string_agg(stage, ',' ORDER BY sort_order) FROM salesperf.stage),
          'prospecting,qualification,needs_analysis,proposal,negotiation,closed_won,closed_lost',
          'the funnel is seeded in order');
SELECT is(salesperf.set_stage('verbal', 0.9, 'commit'), 'verbal', 'set_stage adds a stage');
SELECT is((SELECT sort_order FROM salesperf.stage WHERE stage = 'verbal'), 80, 'a new stage goes to the end');
SELECT throws_ok($$SELECT salesperf.set_stage('x', 1.5, 'pipeline')$$, '22003', NULL, 'probability above 1');
SELECT throws_ok($$SELECT salesperf.set_stage('x', -0.5, 'pipeline')$$, '22003', NULL, 'negative probability');
SELECT throws_ok($$INSERT INTO salesperf.stage (stage, probability, category) VALUES ('x', 2, 'pipeline')$$,
                 '22003', NULL, 'probability checked on direct writes too');
SELECT throws_ok($$UPDATE salesperf.stage SET probability = 'NaN' WHERE stage = 'proposal'$$,
                 '22003', NULL, 'NaN probability');
SELECT throws_ok($$SELECT salesperf.set_stage('x', 0.5, 'maybe')$$, '22023', NULL, 'unknown category');
SELECT throws_ok($$SELECT salesperf.set_stage('x', NULL, 'pipeline')$$, '22004', NULL, 'NULL probability');
SELECT throws_ok($$SELECT salesperf.set_stage('x', 1, 'closed', is_won => true, is_closed => false)$$,
                 '22023', NULL, 'a won stage is closed');
SELECT throws_ok($$SELECT salesperf.set_stage('x', 1, 'commit', is_won => true)$$,
                 '22023', NULL, 'a won stage has the category closed');
SELECT throws_ok($$SELECT salesperf.set_stage('x', 0, 'pipeline', is_closed => true)$$,
                 '22023', NULL, 'a lost stage is omitted');

-- Opportunities
SELECT lives_ok($$
  SELECT salesperf.upsert_opportunity('crm', k, rep, amount, stage, close_date::date,
                                      opened::timestamptz, closed::timestamptz)
    FROM (VALUES
      ('101', 1::bigint, 10000::numeric, 'closed_won', NULL, '2026-09-01', '2026-10-20 14:00'),
      ('102', 1, 20000, 'negotiation',    '2026-12-10', '2026-09-15', NULL),
      ('103', 2,  5000, 'proposal',       '2026-11-30', '2026-10-01', NULL),
      ('104', 2,  8000, 'prospecting',    '2026-12-20', '2026-11-02', NULL),
      ('105', 3, 15000, 'closed_won',     NULL,         '2026-08-10', '2026-11-05 11:00'),
      ('106', 3,  4000, 'closed_lost',    NULL,         '2026-09-01', '2026-10-12 16:00'),
      ('107', 3, 12000, 'qualification',  '2026-12-01', '2026-10-20', NULL),
      ('108', 4, 30000, 'negotiation',    '2026-11-28', '2026-09-20', NULL),
      ('109', 4,  7000, 'proposal',       '2027-01-15', '2026-11-01', NULL),
      ('110', 5,  6000, 'needs_analysis', '2026-12-15', '2026-10-25', NULL),
      ('111', 5,  9000, 'closed_won',     NULL,         '2026-07-01', '2026-09-25 10:00'),
      ('112', 6, 10000, 'negotiation',    '2026-12-05', '2026-10-05', NULL),
      ('113', 5,  2500, 'proposal',       '2026-11-20', '2026-10-30', NULL),
      ('114', 6,  NULL, 'prospecting',    '2026-12-01', '2026-11-10', NULL)) AS d(k, rep, amount, stage, close_date, opened, closed)
$$, 'fourteen opportunities, one not yet sized');
SELECT is(salesperf.upsert_opportunity('crm', '101', 1, 10000, 'closed_won', NULL, '2026-09-01', '2026-10-20 14:00'),
          (SELECT opportunity_id FROM salesperf.opportunity WHERE source_key = '101'),
          'upsert of an existing key returns its id');
SELECT results_eq(
  $$SELECT source_key, kind, rep_id, amount, occurred_at FROM salesperf.activity
     WHERE source = 'opportunity' ORDER BY source_key$$,
  $$VALUES ('crm:101', 'deal_won', 1::bigint, 10000::numeric, '2026-10-20 14:00+00'::timestamptz),
           ('crm:105', 'deal_won', 3, 15000, '2026-11-05 11:00+00'),
           ('crm:106', 'deal_lost', 3, 4000, '2026-10-12 16:00+00'),
           ('crm:111', 'deal_won', 5, 9000, '2026-09-25 10:00+00')$$,
  'won and lost deals are activities keyed by the opportunity');

-- The deal_won lifecycle.
SELECT lives_ok($$SELECT salesperf.upsert_opportunity('crm', '108', 4, 30000, 'closed_won', '2026-11-28',
                                                      closed_at => '2026-11-16 10:00')$$, 'Di wins 108');
SELECT is(salesperf.kpi_value('revenue', 'rep', 4, 'month', '2026-11-16'), 30000::numeric, 'revenue follows the win');
SELECT lives_ok($$SELECT salesperf.upsert_opportunity('crm', '108', 4, 31000, 'closed_won', '2026-11-28')$$,
                'amount corrected');
SELECT is((SELECT amount FROM salesperf.activity WHERE source_key = 'crm:108'), 31000::numeric,
          'the activity follows the amount');
SELECT is((SELECT occurred_at FROM salesperf.activity WHERE source_key = 'crm:108'), '2026-11-16 10:00+00'::timestamptz,
          'and keeps the close time');
SELECT is((SELECT opened_at FROM salesperf.opportunity WHERE source_key = '108'), '2026-09-20 00:00+00'::timestamptz,
          'opened_at left to its default does not restart the cycle');
UPDATE salesperf.opportunity SET rep_id = 5 WHERE source_key = '108';
SELECT is((SELECT rep_id FROM salesperf.activity WHERE source_key = 'crm:108'), 5::bigint, 'the activity follows the rep');
SELECT lives_ok($$SELECT salesperf.upsert_opportunity('crm', '108', 4, 30000, 'negotiation', '2026-11-28')$$, 'reopened');
SELECT is((SELECT count(*)::int FROM salesperf.activity WHERE source_key = 'crm:108'), 0, 'reopening removes the activity');
SELECT is((SELECT closed_at FROM salesperf.opportunity WHERE source_key = '108'), NULL, 'and clears closed_at');
SELECT is(salesperf.kpi_value('revenue', 'company', NULL, 'month', '2026-11-16'), 15000::numeric,
          'revenue back to 105 alone');

-- A stage that starts meaning "won" re-derives its deals.
SELECT lives_ok($$SELECT salesperf.upsert_opportunity('crm', '115', 2, 3000, 'verbal', '2026-12-03', '2026-11-01')$$,
                'a verbal deal');
SELECT lives_ok($$SELECT salesperf.set_stage('verbal', 1, 'closed', is_won => true)$$, 'verbal now means won');
SELECT is((SELECT kind FROM salesperf.activity WHERE source_key = 'crm:115'), 'deal_won', 'its deal is won');
SELECT isnt((SELECT closed_at FROM salesperf.opportunity WHERE source_key = '115'), NULL, 'and closed');
SELECT lives_ok($$SELECT salesperf.set_stage('verbal', 0.9, 'commit', is_won => false, is_closed => false)$$,
                'verbal is open again');
SELECT lives_ok($$SELECT salesperf.set_stage('closed_lost', 0, 'omitted')$$, 'flags not given are kept');
SELECT ok((SELECT is_closed AND NOT is_won FROM salesperf.stage WHERE stage = 'closed_lost'), 'closed_lost is still lost');
SELECT is((SELECT count(*)::int FROM salesperf.activity WHERE source_key = 'crm:115'), 0, 'the activity goes');
DELETE FROM salesperf.opportunity WHERE source_key = '115';

SELECT throws_ok($$DELETE FROM salesperf.stage WHERE stage = 'proposal'$$, '23503', NULL, 'a stage in use stays');
SELECT throws_ok($$SELECT salesperf.upsert_opportunity('crm', '900', 99, 1, 'proposal', '2026-12-01')$$,
                 '42704', NULL, 'unknown rep');
SELECT throws_ok($$SELECT salesperf.upsert_opportunity('crm', '900', 1, 1, 'dreaming', '2026-12-01')$$,
                 '42704', NULL, 'unknown stage');
SELECT throws_ok($$SELECT salesperf.upsert_opportunity('crm', NULL, 1, 1, 'proposal', '2026-12-01')$$,
                 '22004', NULL, 'NULL source_key');
SELECT throws_ok($$SELECT salesperf.upsert_opportunity(NULL, '900', 1, 1, 'proposal', '2026-12-01')$$,
                 '22004', NULL, 'NULL source');
SELECT throws_ok($$SELECT salesperf.upsert_opportunity('crm', '900', NULL, 1, 'proposal', '2026-12-01')$$,
                 '22004', NULL, 'NULL rep');
SELECT throws_ok($$SELECT salesperf.upsert_opportunity('crm', '900', 1, 1, NULL, '2026-12-01')$$,
                 '22004', NULL, 'NULL stage');
SELECT throws_ok($$SELECT salesperf.upsert_opportunity('crm', '900', 1, -1, 'proposal', '2026-12-01')$$,
                 '22003', NULL, 'negative amount');
SELECT throws_ok($$SELECT salesperf.upsert_opportunity('crm', '900', 1, 'NaN', 'proposal', '2026-12-01')$$,
                 '22003', NULL, 'NaN amount');
SELECT throws_ok($$SELECT salesperf.upsert_opportunity('crm', '900', 1, '-Infinity', 'proposal', '2026-12-01')$$,
                 '22003', NULL, 'infinite amount');
SELECT throws_ok($$INSERT INTO salesperf.opportunity (source, source_key, rep_id, stage) VALUES ('crm', '900', 1, NULL)$$,
                 '22004', NULL, 'direct writes are checked too');
SELECT throws_ok($$SELECT salesperf.upsert_opportunity('crm', '900', 1, 1, 'closed_won', NULL, '2026-11-10', 'infinity')$$,
                 '22008', NULL, 'infinite close time');
SELECT throws_ok($$SELECT salesperf.upsert_opportunity('crm', '900', 1, 1, 'closed_won', NULL, '2026-11-10', '2026-11-01')$$,
                 '22023', NULL, 'closed before it opened');
SELECT throws_ok($$SELECT salesperf.upsert_opportunity('crm:x', '900', 1, 1, 'proposal', '2026-12-01')$$,
                 '22023', NULL, 'a source cannot contain a colon');
SELECT is((SELECT count(*)::int FROM salesperf.opportunity WHERE source_key = '900'), 0, 'nothing was written');

-- Roll-up: every unit equals its children plus the deals of its own reps,
-- checked on a larger pipeline generated at random (the seed fixes it).
SELECT setseed(0.17);
INSERT INTO salesperf.opportunity (source, source_key, rep_id, amount, stage, expected_close, opened_at, closed_at)
SELECT 'gen', i::text, 1 + (random() * 5)::int, round((500 + random() * 50000)::numeric, 2), st.stage,
       date '2026-09-15' + (random() * 130)::int, '2026-08-01',
       CASE WHEN st.is_closed THEN '2026-09-20'::timestamptz + random() * interval '110 days' END
  FROM generate_series(1, 300) i
  CROSS JOIN LATERAL (SELECT s.stage, s.is_closed FROM salesperf.stage s
                       WHERE s.stage <> 'verbal' ORDER BY random() + i * 0 LIMIT 1) st;
CREATE TEMP TABLE fc ON COMMIT DROP AS SELECT * FROM salesperf.forecast('quarter', '2026-11-15 12:00');
CREATE TEMP TABLE own_deals ON COMMIT DROP AS
SELECT salesperf.unit_of(o.rep_id, CASE WHEN s.is_closed THEN o.closed_at ELSE o.expected_close::timestamptz END) AS unit_id,
       o.amount, s.category,
       o.amount * CASE WHEN s.is_won THEN 1 WHEN s.is_closed THEN 0 ELSE s.probability END AS weighted
  FROM salesperf.opportunity o JOIN salesperf.stage s ON s.stage = o.stage
 WHERE CASE WHEN s.is_closed THEN o.closed_at ELSE o.expected_close::timestamptz END
       >= '2026-10-01' AND
       CASE WHEN s.is_closed THEN o.closed_at ELSE o.expected_close::timestamptz END
       < '2027-01-01';
SELECT cmp_ok((SELECT count(*)::int FROM own_deals), '>', 150, 'the quarter holds many deals');
SELECT results_eq(
  $$SELECT unit_id, closed, commit, best_case, pipeline, weighted, commit_forecast, best_case_forecast
      FROM fc ORDER BY unit_id$$,
  $$SELECT u.unit_id,
           own.closed + kids.closed, own.commit + kids.commit, own.best_case + kids.best_case,
           own.pipeline + kids.pipeline, own.weighted + kids.weighted,
           own.closed + own.commit + kids.commit_forecast,
           own.closed + own.commit + own.best_case + kids.best_case_forecast
      FROM salesperf.unit u
     CROSS JOIN LATERAL (
           SELECT COALESCE(sum(d.amount) FILTER (WHERE d.category = 'closed'), 0) AS closed,
                  COALESCE(sum(d.amount) FILTER (WHERE d.category = 'commit'), 0) AS commit,
                  COALESCE(sum(d.amount) FILTER (WHERE d.category = 'best_case'), 0) AS best_case,
                  COALESCE(sum(d.amount) FILTER (WHERE d.category = 'pipeline'), 0) AS pipeline,
                  COALESCE(sum(d.weighted), 0) AS weighted
             FROM own_deals d WHERE d.unit_id = u.unit_id) own
     CROSS JOIN LATERAL (
           SELECT COALESCE(sum(c.closed), 0) AS closed, COALESCE(sum(c.commit), 0) AS commit,
                  COALESCE(sum(c.best_case), 0) AS best_case, COALESCE(sum(c.pipeline), 0) AS pipeline,
                  COALESCE(sum(c.weighted), 0) AS weighted,
                  COALESCE(sum(c.commit_forecast), 0) AS commit_forecast,
                  COALESCE(sum(c.best_case_forecast), 0) AS best_case_forecast
             FROM fc c JOIN salesperf.unit k ON k.unit_id = c.unit_id WHERE k.parent_id = u.unit_id) kids
     ORDER BY u.unit_id$$,
  'each unit = its children + its own deals, in every column');
SELECT results_eq(
  $$SELECT closed, commit, best_case, pipeline, weighted FROM fc WHERE unit_id = 1$$,
  $$SELECT sum(amount) FILTER (WHERE category = 'closed'), sum(amount) FILTER (WHERE category = 'commit'),
           sum(amount) FILTER (WHERE category = 'best_case'), sum(amount) FILTER (WHERE category = 'pipeline'),
           sum(weighted) FROM own_deals$$,
  'the company is every deal of the quarter');
SELECT results_eq($$SELECT unit_id, depth FROM fc$$,
                  $$VALUES (1::bigint, 0), (10, 1), (11, 2), (12, 2), (20, 1), (21, 2)$$,
                  'rows come in tree pre-order with their depth');
SELECT is((SELECT count(*)::int FROM fc WHERE target IS NOT NULL OR adjusted_commit <> commit_forecast), 0,
          'no target yet, no adjustment yet');

-- Adjustments roll up: a unit counts the highest adjustments inside it.
SELECT lives_ok($$SELECT salesperf.adjust_forecast(11, '2026-10-01', 100000)$$, 'Paris adjusts');
SELECT lives_ok($$SELECT salesperf.adjust_forecast(21, '2026-10-01', 0)$$, 'New York adjusts to zero');
SELECT results_eq(
  $$SELECT unit_id, adjusted_commit FROM salesperf.forecast('quarter', '2026-11-15 12:00') ORDER BY unit_id$$,
  $$SELECT f.unit_id, CASE f.unit_id
             WHEN 11 THEN 100000
             WHEN 21 THEN 0
             WHEN 10 THEN f.commit_forecast - p.commit_forecast + 100000
             WHEN 20 THEN f.commit_forecast - n.commit_forecast
             WHEN 1  THEN f.commit_forecast - p.commit_forecast + 100000 - n.commit_forecast
             ELSE f.commit_forecast END
      FROM fc f, fc p, fc n WHERE p.unit_id = 11 AND n.unit_id = 21 ORDER BY f.unit_id$$,
  'adjusted commits roll up');
SELECT lives_ok($$SELECT salesperf.adjust_forecast(11, '2026-10-01', 90000)$$, 'Paris adjusts again');
SELECT is((SELECT count(*)::int FROM salesperf.forecast_adjustment WHERE unit_id = 11), 1, 'one adjustment per unit and period');
SELECT is((SELECT adjusted_commit FROM salesperf.forecast('quarter', '2026-11-15') WHERE unit_id = 11), 90000::numeric,
          'the latest call counts');
SELECT throws_ok($$SELECT salesperf.adjust_forecast(99, '2026-10-01', 1)$$, '42704', NULL, 'unknown unit');
SELECT throws_ok($$SELECT salesperf.adjust_forecast(11, '2026-10-01', NULL)$$, '22004', NULL, 'NULL commit');
SELECT throws_ok($$SELECT salesperf.adjust_forecast(11, NULL, 1)$$, '22004', NULL, 'NULL period_start');
SELECT throws_ok($$SELECT salesperf.adjust_forecast(11, '2026-10-01', -1)$$, '22003', NULL, 'negative commit');
SELECT throws_ok($$SELECT salesperf.adjust_forecast(11, '2026-11-01', 1)$$, '22023', NULL, 'not a quarter start');

-- Cumulative forecast
SELECT results_eq(
  $$SELECT month, won, weighted FROM salesperf.cumulative_forecast(3, '2026-11-15')$$,
  $$SELECT m::date,
           COALESCE((SELECT sum(o.amount) FROM salesperf.opportunity o JOIN salesperf.stage s USING (stage)
                      WHERE s.is_won AND o.closed_at >= m AND o.closed_at < m + interval '1 month'), 0),
           COALESCE((SELECT sum(o.amount * s.probability) FROM salesperf.opportunity o JOIN salesperf.stage s USING (stage)
                      WHERE NOT s.is_closed AND o.expected_close >= m AND o.expected_close < m + interval '1 month'), 0)
      FROM generate_series('2026-11-01'::timestamptz, '2027-01-01', interval '1 month') m ORDER BY m$$,
  'cumulative_forecast: won and weighted per month');
SELECT is((SELECT pg_catalog.array_agg(cumulative ORDER BY month) FROM salesperf.cumulative_forecast(3, '2026-11-15')),
          (SELECT pg_catalog.array_agg(s ORDER BY month)
             FROM (SELECT month, sum(won + weighted) OVER (ORDER BY month) AS s
                     FROM salesperf.cumulative_forecast(3, '2026-11-15')) x),
          'cumulative is the running total');
SELECT throws_ok($$SELECT * FROM salesperf.cumulative_forecast(0)$$, '22023', NULL, 'zero months');
SELECT throws_ok($$SELECT * FROM salesperf.cumulative_forecast(NULL)$$, '22004', NULL, 'NULL months');
SELECT throws_ok($$SELECT * FROM salesperf.forecast('fortnight')$$, '22023', NULL, 'unknown period');

-- Snapshots and accuracy
SELECT is(salesperf.snapshot_forecast('quarter', '2026-11-15 09:00'), 6::bigint, 'a snapshot stores every unit');
SELECT is(salesperf.snapshot_forecast('quarter', '2026-11-15 17:00'), 6::bigint, 'the same day again');
SELECT is((SELECT count(*)::int FROM salesperf.forecast_snapshot), 6, 'replaces that day''s snapshot');
SELECT results_eq(
  $$SELECT unit_id, commit_forecast, weighted, adjusted_commit FROM salesperf.forecast_snapshot ORDER BY unit_id$$,
  $$SELECT unit_id, commit_forecast, weighted, adjusted_commit FROM salesperf.forecast('quarter', '2026-11-15 17:00')
     ORDER BY unit_id$$,
  'the snapshot is the roll-up of that moment');
SELECT results_eq(
  $$SELECT unit_id, actual_won FROM salesperf.forecast_accuracy ORDER BY unit_id$$,
  $$SELECT unit_id, closed FROM fc ORDER BY unit_id$$,
  'actual_won is what closed won in the period, unit by unit');

-- CRM mirroring
CREATE TABLE public.crm_deal (id integer PRIMARY KEY, owner bigint, amount numeric, stage text,
                              close_on date, created timestamptz, closed timestamptz, note text);
INSERT INTO public.crm_deal VALUES (1, 1, 100, 'proposal', '2026-12-01', '2026-11-01', NULL, NULL),
                                   (2, 2, 200, 'closed_won', '2026-11-10', '2026-10-01', '2026-11-10 12:00', NULL);
SELECT is(salesperf.track_opportunities('public.crm_deal', 'id', 'owner', 'amount', 'stage', 'close_on', 'created', 'closed'),
          2::bigint, 'backfill mirrors existing deals');
SELECT throws_ok($$SELECT salesperf.track_opportunities('public.crm_deal', 'id', 'owner', 'amount', 'stage')$$,
                 '42710', NULL, 'already tracked');
INSERT INTO public.crm_deal VALUES (3, 3, 300, 'prospecting', '2026-12-15', '2026-11-05', NULL, NULL);
UPDATE public.crm_deal SET note = 'called back' WHERE id = 1;
UPDATE public.crm_deal SET stage = 'closed_lost', closed = '2026-11-12 08:00' WHERE id = 3;
SELECT results_eq(
  $$SELECT source_key, rep_id, amount, stage, closed_at FROM salesperf.opportunity
     WHERE source = 'public.crm_deal' ORDER BY source_key$$,
  $$VALUES ('1', 1::bigint, 100::numeric, 'proposal', NULL::timestamptz),
           ('2', 2, 200, 'closed_won', '2026-11-10 12:00+00'),
           ('3', 3, 300, 'closed_lost', '2026-11-12 08:00+00')$$,
  'inserts and updates are mirrored');
SELECT is((SELECT pg_catalog.string_agg(kind || ' ' || source_key, ', ' ORDER BY source_key) FROM salesperf.activity
            WHERE source_key LIKE 'public.crm_deal:%'),
          'deal_won public.crm_deal:2, deal_lost public.crm_deal:3', 'with their deal activities');
TRUNCATE public.crm_deal;
SELECT is((SELECT count(*)::int FROM salesperf.opportunity WHERE source = 'public.crm_deal'), 0,
          'truncate empties the mirror');
INSERT INTO public.crm_deal VALUES (4, 1, 400, 'closed_won', '2026-11-20', '2026-11-01', '2026-11-20 10:00', NULL);
SELECT is(salesperf.untrack_opportunities('public.crm_deal', forget => true), 1::bigint, 'untrack and forget');
SELECT is((SELECT count(*)::int FROM salesperf.activity WHERE source_key LIKE 'public.crm_deal:%'), 0,
          'forgotten deals leave the ledger');
SELECT throws_ok($$SELECT salesperf.untrack_opportunities('public.crm_deal')$$, '42704', NULL, 'not tracked');
SELECT throws_ok($$SELECT salesperf.track_opportunities('public.crm_deal', 'id', 'owner', 'amount', 'nope')$$,
                 '42703', NULL, 'unknown column');
SELECT throws_ok($$SELECT salesperf.track_opportunities('public.crm_deal', 'owner', 'owner', 'amount', 'stage')$$,
                 '42P10', NULL, 'key column not unique');
SELECT throws_ok($$SELECT salesperf.track_opportunities('public.crm_deal', 'id', 'close_on', 'amount', 'stage')$$,
                 '42846', NULL, 'column of the wrong type');
SELECT throws_ok($$SELECT salesperf.track_opportunities('public.crm_deal', 'id', 'owner', NULL, 'stage')$$,
                 '22004', NULL, 'NULL column');
CREATE ROLE pipeline_tap_outsider;
GRANT USAGE ON SCHEMA salesperf TO pipeline_tap_outsider;
SET LOCAL ROLE pipeline_tap_outsider;
SELECT throws_ok($$SELECT salesperf.track_opportunities('public.crm_deal', 'id', 'owner', 'amount', 'stage')$$,
                 '42501', NULL, 'only the owner may track');
RESET ROLE;

-- Derived state still equals a rebuild from the ledger.
CREATE TEMP TABLE counters_before ON COMMIT DROP AS SELECT * FROM salesperf.kpi_counter;
SELECT salesperf.recompute();
SELECT is((SELECT count(*)::int FROM ((SELECT * FROM counters_before EXCEPT ALL SELECT * FROM salesperf.kpi_counter)
                                      UNION ALL
                                      (SELECT * FROM salesperf.kpi_counter EXCEPT ALL SELECT * FROM counters_before)) d),
          0, 'counters fed by deal activities equal recompute()');

SELECT * FROM finish();
ROLLBACK;

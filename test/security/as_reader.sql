-- Run as sp_reader (level reader, a BI tool): every table, view and read
-- function; no writes, no configuration.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
SET client_min_messages = warning;

SELECT plan(16 + 5 + 14 + 3 + 4
            + (SELECT count(*)::integer FROM pg_catalog.pg_class c
                WHERE c.relnamespace = 'salesperf'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')));

-- Every view and table of the schema (as the catalog lists them, so views
-- added later are covered).
SELECT lives_ok(pg_catalog.format('SELECT count(*) FROM salesperf.%I', c.relname),
                'reader reads ' || CASE c.relkind WHEN 'v' THEN 'view ' ELSE 'table ' END || c.relname)
  FROM pg_catalog.pg_class c
 WHERE c.relnamespace = 'salesperf'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
 ORDER BY c.relkind DESC, c.relname;

-- The read API.
SELECT ok((SELECT count(*) FROM salesperf.leaderboard_top('calls_month', 10, '2026-03-15 12:00+00')) >= 3,
          'reader reads a board');
SELECT lives_ok($$SELECT * FROM salesperf.leaderboard_rank('calls_month', 103, '2026-03-15 12:00+00')$$,
                'reader reads a rank');
SELECT is(salesperf.kpi_value('calls', 'rep', 102, 'month', '2026-03-15 12:00+00'),
          (SELECT count(*) FROM salesperf.activity a
            WHERE a.rep_id = 102 AND a.kind = 'call'
              AND a.occurred_at >= '2026-03-01 00:00+00' AND a.occurred_at < '2026-04-01 00:00+00')::numeric,
          'reader reads a KPI, equal to the ledger');
SELECT lives_ok($$SELECT salesperf.kpi_value('revenue', 'unit', 1, 'quarter', '2026-03-15 12:00+00')$$,
                'reader reads a unit KPI');
SELECT lives_ok($$SELECT salesperf.period_start(now(), 'month'), salesperf.period_end(now(), 'week'),
                         salesperf.period_range(now(), 'quarter'), salesperf.unit_of(101)$$,
                'reader calls the calendar and organisation functions');
SELECT lives_ok($$SELECT * FROM salesperf.forecast('quarter', '2026-03-15 12:00+00')$$, 'reader reads the forecast');
SELECT lives_ok($$SELECT * FROM salesperf.cumulative_forecast(3, '2026-03-15 12:00+00')$$,
                'reader reads the cumulative forecast');
SELECT lives_ok($$SELECT salesperf.sales_velocity(o.opened_at, o.closed_at, o.amount, s.is_won),
                         salesperf.sales_velocity_detail(o.opened_at, o.closed_at, o.amount, s.is_won),
                         salesperf.weighted_pipeline(o.amount, s.probability),
                         salesperf.forecast_summary(o.amount, s.category)
                    FROM salesperf.opportunity o JOIN salesperf.stage s USING (stage)$$,
                'reader runs the pipeline aggregates');
SELECT lives_ok($$SELECT salesperf.forecast_quantiles(o.source_key, o.amount::float8, 0.5),
                         salesperf.forecast_quantiles(o.source_key, o.amount::float8, 0.5, '{0.5}')
                    FROM salesperf.opportunity o$$,
                'reader runs forecast_quantiles');
SELECT lives_ok($$SELECT salesperf.kpi_score(v.a, v.t, v.w), salesperf.kpi_score(v.a, v.t, v.w, 2)
                    FROM (VALUES (1::numeric, 2::numeric, 1::numeric)) v(a, t, w)$$,
                'reader runs kpi_score');
SELECT lives_ok($$SELECT * FROM salesperf.scored_activity$$, 'reader reads scored activities (rule_points)');
SELECT lives_ok($$SELECT salesperf.has_capped_rule('call', now())$$, 'reader calls the scoring helpers');
SELECT lives_ok($$SELECT * FROM salesperf.forecast_accuracy$$, 'reader reads the forecast accuracy');
SELECT lives_ok($$SELECT * FROM salesperf.settings$$, 'reader reads the settings');
SELECT lives_ok($$SELECT * FROM salesperf.commission_statement('month', '2026-03-15 12:00+00')$$,
                'reader reads commission statements');
SELECT lives_ok($$SELECT * FROM salesperf.commission_adjustments('month', '2026-03-15 12:00+00'),
                         salesperf.tiered_commission(10, '{0}', '{0.1}'), salesperf.payout_curve(1, '{0}', '{1}')$$,
                'reader reads commission adjustments and the commission maths');

-- No writes to the ledger or the opportunities.
SELECT throws_ok($$INSERT INTO salesperf.activity (rep_id, kind, occurred_at) VALUES (103, 'call', now())$$,
                 '42501', NULL, 'reader cannot insert activities');
SELECT throws_ok($$UPDATE salesperf.activity SET amount = amount + 1$$, '42501', NULL,
                 'reader cannot update activities');
SELECT throws_ok($$DELETE FROM salesperf.activity$$, '42501', NULL, 'reader cannot delete activities');
SELECT throws_ok($$SELECT salesperf.record(103, 'call')$$, '42501', NULL, 'reader cannot call record()');
SELECT throws_ok($$SELECT salesperf.upsert_opportunity('bi', 'z', 103, 1, 'proposal', NULL)$$, '42501', NULL,
                 'reader cannot call upsert_opportunity()');

-- No configuration or maintenance.
SELECT throws_ok(pg_catalog.format('SELECT %s', f), '42501', NULL, 'reader cannot call ' || f)
  FROM unnest(ARRAY[
        $$salesperf.recompute()$$,
        $$salesperf.configure(currency => 'GBP')$$,
        $$salesperf.assign(103, 10, '2026-03-20 00:00+00')$$,
        $$salesperf.create_leaderboard('bi_board', 'points')$$,
        $$salesperf.define_kpi('bi_kpi', 'call')$$,
        $$salesperf.set_stage('bi_stage', 1, 'closed', true)$$,
        $$salesperf.adjust_forecast(10, '2026-01-01 00:00+00', 1)$$,
        $$salesperf.snapshot_forecast()$$,
        $$salesperf.track('salesperf.rep', 'call', 'rep_id', 'rep_id')$$,
        $$salesperf.grant_access('sp_reader', 'admin')$$,
        $$salesperf.rederive(ARRAY[103]::bigint[], ARRAY['2026-03-07']::date[])$$,
        $$salesperf.lock_reps(ARRAY[103]::bigint[])$$,
        $$salesperf.assign_plan(103, NULL, '2026-03-20 00:00+00')$$,
        $$salesperf.close_commission_period('2026-02-01 00:00+00')$$]) AS f;

-- Rules, KPIs and boards.
SELECT throws_ok($$UPDATE salesperf.point_rule SET points = 100$$, '42501', NULL, 'reader cannot change a rule');
SELECT throws_ok($$INSERT INTO salesperf.kpi (name, measure, num_measure) VALUES ('x', 'points', 'points')$$,
                 '42501', NULL, 'reader cannot add a KPI');
SELECT throws_ok($$DELETE FROM salesperf.leaderboard$$, '42501', NULL, 'reader cannot delete a board');

-- Row-level security does not filter the reader: every rep's rows.
SELECT ok((SELECT pg_catalog.array_agg(DISTINCT a.rep_id) FROM salesperf.activity a) @> '{101,102,103,201,202,203,204,205,206}',
          'reader sees every rep''s activities');
SELECT is((SELECT pg_catalog.array_agg(s.rep_id ORDER BY s.rep_id)
             FROM salesperf.commission_statement('quarter', '2025-10-01 00:00+00') s),
          '{201,204}'::bigint[], 'reader reads every rep''s statement');
SELECT is(salesperf.kpi_value('calls', 'unit', 1, 'month', '2026-05-15 12:00+00'),
          (SELECT count(*)::numeric FROM salesperf.activity a
            WHERE a.kind = 'call' AND a.occurred_at >= '2026-05-01 00:00+00' AND a.occurred_at < '2026-06-01 00:00+00'),
          'reader reads the whole company''s KPI');
SELECT is((SELECT count(*) FROM salesperf.target t WHERE t.period_start = '2026-05-01 00:00+00'), 5::bigint,
          'reader sees every target');

SELECT * FROM finish();

-- Run as sp_admin (level admin): configuration works, derived tables and
-- handing out access do not.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
SET client_min_messages = warning;

SELECT plan(32);

-- Configuration ---------------------------------------------------------------
SELECT lives_ok($$SELECT salesperf.create_leaderboard('points_month', 'points', 'rep', 'month')$$,
                'admin creates a board');
SELECT ok((SELECT count(*) FROM salesperf.leaderboard_top('points_month', 10, '2026-03-15 12:00+00')) > 0,
          'the new board has standings built from the ledger');
SELECT lives_ok($$UPDATE salesperf.point_rule SET points = 2 WHERE name = 'call_points'$$,
                'admin edits a point rule');
SELECT is(salesperf.kpi_value('points', 'rep', 102, 'month', '2026-03-15 12:00+00'),
          2 * (SELECT count(*) FROM salesperf.activity a
                WHERE a.rep_id = 102 AND a.kind = 'call'
                  AND a.occurred_at >= '2026-03-01 00:00+00' AND a.occurred_at < '2026-04-01 00:00+00')::numeric,
          'the rule edit re-derives the points it touches');
SELECT lives_ok($$SELECT salesperf.assign(104, 20, '2026-03-01 00:00+00')$$, 'admin assigns a rep');
SELECT lives_ok($$SELECT salesperf.configure(currency => 'EUR')$$, 'admin configures');
SELECT lives_ok($$SELECT salesperf.configure(week_start => 7)$$,
                'admin changes a setting that moves period boundaries (rebuilds derived state)');
SELECT lives_ok($$SELECT salesperf.recompute()$$, 'admin recomputes');
SELECT lives_ok($$SELECT salesperf.define_kpi('site_visits', 'visit')$$, 'admin defines a KPI');
SELECT lives_ok($$SELECT salesperf.set_stage('pilot', 0.6, 'best_case')$$, 'admin adds a stage');
SELECT lives_ok($$SELECT salesperf.adjust_forecast(10, salesperf.period_start('2026-03-15 12:00+00', 'quarter'), 1000)$$,
                'admin adjusts a forecast');
SELECT lives_ok($$SELECT salesperf.snapshot_forecast('quarter', '2026-03-15 12:00+00')$$,
                'admin snapshots the forecast');
SELECT lives_ok($$SELECT salesperf.create_leaderboard('scratch', 'calls', 'unit', 'week', NULL, 'team')$$,
                'admin creates a unit board');
SELECT lives_ok($$DELETE FROM salesperf.leaderboard WHERE name = 'scratch'$$,
                'admin deletes a board (its standings go with it)');

-- Commission: plans, assignments and the close are the admin's; the frozen
-- statements are written only by close_commission_period().
SELECT lives_ok($$INSERT INTO salesperf.commission_plan (name, basis_kpi, period, kind, breakpoints, rates)
                  VALUES ('flat', 'revenue', 'month', 'rate', '{0}', '{0.05}')$$, 'admin defines a commission plan');
SELECT lives_ok($$SELECT salesperf.assign_plan(101, 'flat', '2026-01-01 00:00+00')$$, 'admin assigns a plan');
SELECT lives_ok($$SELECT salesperf.close_commission_period('2026-02-01 00:00+00')$$, 'admin closes a commission month');

-- CRM tables the admin owns, tracked, and written by the CRM backend's role.
CREATE TABLE crm.calls (id bigint PRIMARY KEY, rep bigint, at timestamptz, seconds integer, status text);
CREATE TABLE crm.deals (id text PRIMARY KEY, owner bigint, value numeric, stage text, close_on date);
GRANT USAGE ON SCHEMA crm TO sp_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON crm.calls, crm.deals TO sp_writer;
SELECT lives_ok($$SELECT salesperf.track('crm.calls', 'call', 'rep', 'at', 'seconds', condition => 'status = ''done''')$$,
                'admin tracks its CRM calls table');
SELECT lives_ok($$SELECT salesperf.track_opportunities('crm.deals', 'id', 'owner', 'value', 'stage', 'close_on')$$,
                'admin tracks its CRM deals table');

-- Derived tables: nobody writes them directly, not even an admin.
SELECT throws_ok(pg_catalog.format('INSERT INTO salesperf.%I DEFAULT VALUES', t), '42501', NULL,
                 'admin cannot insert into ' || t)
  FROM unnest(ARRAY['standing', 'kpi_counter', 'capped_award', 'unit_tree', 'board_unit',
                    'forecast_snapshot', 'commission_period', 'commission_paid', 'commission_adjustment']) AS t;
SELECT throws_ok($$UPDATE salesperf.kpi_counter SET points = points + 100$$, '42501', NULL,
                 'admin cannot add points to counters');
SELECT throws_ok($$TRUNCATE salesperf.activity$$, '42501', NULL, 'admin cannot truncate the ledger');

-- Internal functions and handing out access stay with the extension's owner.
SELECT throws_ok($$SELECT salesperf.rederive(ARRAY[101]::bigint[], ARRAY['2026-03-10']::date[])$$, '42501', NULL,
                 'admin cannot call internal re-derivation');
SELECT throws_ok($$SELECT salesperf.grant_access('sp_intruder', 'admin')$$, '42501', NULL,
                 'admin cannot hand out access');

SELECT * FROM finish();

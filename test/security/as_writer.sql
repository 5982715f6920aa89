-- Run as sp_writer (levels writer and rep): a CRM backend records
-- activities and writes opportunities, directly and through tracked CRM
-- tables, and can touch nothing else.
--
-- Note: a writer can record a 'bonus' activity.  That is ledger data like a
-- call; who may write which kinds is the CRM's business, so it is not
-- asserted against here.  What a writer cannot do is change how activities
-- score (point rules, KPIs, boards) or write derived numbers.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
SET client_min_messages = warning;

SELECT plan(17 + 21 * 3 + 16 + 2);

-- The ledger ------------------------------------------------------------------
SELECT lives_ok($$SELECT salesperf.record(101, 'call', 30, '2026-03-10 09:00+00', 'crm', 'c1')$$,
                'writer records an activity with record()');
SELECT is(salesperf.record(101, 'call', 30, '2026-03-10 09:00+00', 'crm', 'c1'),
          (SELECT a.activity_id FROM salesperf.activity a WHERE a.source = 'crm' AND a.source_key = 'c1'),
          'a retry with the same key returns the same activity');
SELECT lives_ok($$INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at, source, source_key)
                  VALUES (101, 'call', 45, '2026-03-11 09:00+00', 'crm', 'c2'),
                         (101, 'call', 20, '2026-03-11 10:00+00', 'crm', 'c3')$$,
                'writer inserts activities directly');
SELECT lives_ok($$UPDATE salesperf.activity SET amount = 50 WHERE source = 'crm' AND source_key = 'c2'$$,
                'writer updates an activity');
SELECT lives_ok($$DELETE FROM salesperf.activity WHERE source = 'crm' AND source_key = 'c3'$$,
                'writer deletes an activity');
SELECT is((SELECT rank FROM salesperf.leaderboard_rank('calls_month', 101, '2026-03-15 12:00+00')), 1::bigint,
          'the board follows: two calls put rep 101 level with the leader');

-- Opportunities -----------------------------------------------------------------
SELECT lives_ok($$SELECT salesperf.upsert_opportunity('crm', 'd1', 101, 1000, 'closed_won', '2026-03-12',
                                                      '2026-02-01 00:00+00', '2026-03-12 10:00+00')$$,
                'writer upserts a won opportunity');
SELECT is((SELECT count(*) FROM salesperf.activity a
            WHERE a.kind = 'deal_won' AND a.source = 'opportunity' AND a.source_key = 'crm:d1'),
          1::bigint, 'the won deal is in the ledger');

-- Tracked CRM tables (tracked by their owner, the admin) ---------------------------
SELECT lives_ok($$INSERT INTO crm.calls VALUES (1, 101, '2026-03-13 10:00+00', 120, 'done'),
                                               (2, 101, '2026-03-13 11:00+00', 60, 'planned')$$,
                'writer inserts into a tracked CRM table');
SELECT is((SELECT count(*) FROM salesperf.activity a WHERE a.source = 'crm.calls'), 1::bigint,
          'the row whose condition holds became an activity');
SELECT lives_ok($$UPDATE crm.calls SET status = 'done' WHERE id = 2$$, 'writer updates the CRM table');
SELECT lives_ok($$DELETE FROM crm.calls WHERE id = 1$$, 'writer deletes from the CRM table');
SELECT is((SELECT pg_catalog.array_agg(a.source_key ORDER BY a.source_key) FROM salesperf.activity a
            WHERE a.source = 'crm.calls'),
          ARRAY['2'], 'the activities follow the CRM rows');
SELECT lives_ok($$INSERT INTO crm.deals VALUES ('x1', 101, 700, 'closed_won', '2026-03-14')$$,
                'writer inserts into a tracked CRM deals table');
SELECT is((SELECT count(*) FROM salesperf.opportunity o WHERE o.source = 'crm.deals'), 1::bigint,
          'the deal is mirrored');
SELECT is((SELECT count(*) FROM salesperf.activity a
            WHERE a.kind = 'deal_won' AND a.source_key = 'crm.deals:x1'), 1::bigint,
          'the mirrored won deal is in the ledger');
SELECT throws_ok($$TRUNCATE salesperf.activity$$, '42501', NULL, 'writer cannot truncate the ledger');

-- Derived and configuration tables: no INSERT, UPDATE or DELETE ------------------------
SELECT throws_ok(x.stmt, '42501', NULL, x.what)
  FROM unnest(ARRAY['standing', 'kpi_counter', 'capped_award', 'unit_tree', 'board_unit',
                    'forecast_snapshot', 'point_rule', 'kpi', 'leaderboard', 'configuration',
                    'membership', 'rep', 'unit', 'activity_kind', 'stage', 'forecast_adjustment',
                    'commission_plan', 'plan_assignment', 'commission_period', 'commission_paid',
                    'commission_adjustment'])
       WITH ORDINALITY AS t(name, n)
 CROSS JOIN LATERAL (
       SELECT a.attname FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = pg_catalog.format('salesperf.%I', t.name)::regclass
          AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
        ORDER BY a.attnum LIMIT 1) c
 CROSS JOIN LATERAL (VALUES
       (1, pg_catalog.format('INSERT INTO salesperf.%I DEFAULT VALUES', t.name),
        'writer cannot insert into ' || t.name),
       (2, pg_catalog.format('UPDATE salesperf.%I SET %I = %I', t.name, c.attname, c.attname),
        'writer cannot update ' || t.name),
       (3, pg_catalog.format('DELETE FROM salesperf.%I', t.name),
        'writer cannot delete from ' || t.name)) AS x(k, stmt, what)
 ORDER BY t.n, x.k;

-- Functions that configure or maintain ------------------------------------------------
SELECT throws_ok(pg_catalog.format('SELECT %s', f), '42501', NULL, 'writer cannot call ' || f)
  FROM unnest(ARRAY[
        $$salesperf.recompute()$$,
        $$salesperf.configure(currency => 'GBP')$$,
        $$salesperf.assign(101, 20, '2026-03-20 00:00+00')$$,
        $$salesperf.create_leaderboard('mine', 'points')$$,
        $$salesperf.define_kpi('my_kpi', 'call')$$,
        $$salesperf.set_stage('mine', 1, 'closed', true)$$,
        $$salesperf.adjust_forecast(10, '2026-01-01 00:00+00', 1)$$,
        $$salesperf.snapshot_forecast()$$,
        $$salesperf.track('crm.calls', 'email', 'rep', 'at')$$,
        $$salesperf.grant_access('sp_writer', 'admin')$$,
        $$salesperf.rederive(ARRAY[101]::bigint[], ARRAY['2026-03-10']::date[])$$,
        $$salesperf.refresh_standings(ARRAY[101]::bigint[], ARRAY['2026-03-10']::date[])$$,
        $$salesperf.lock_reps(ARRAY[101]::bigint[])$$,
        $$salesperf.rebuild_board_units()$$,
        $$salesperf.assign_plan(101, NULL, '2026-03-20 00:00+00')$$,
        $$salesperf.close_commission_period('2026-02-01 00:00+00')$$]) AS f;

-- Row-level security does not filter the CRM backend: it records for any
-- rep and reads back what it wrote.
SELECT lives_ok($$SELECT salesperf.record(204, 'email', 1, '2026-05-20 10:00+00', 'crm.rls', 'w204'),
                         salesperf.record(201, 'email', 1, '2026-05-20 10:00+00', 'crm.rls', 'w201')$$,
                'writer records for reps of any team');
SELECT is((SELECT pg_catalog.array_agg(a.rep_id ORDER BY a.rep_id) FROM salesperf.activity a WHERE a.source = 'crm.rls'),
          '{201,204}'::bigint[], 'writer reads back every rep''s activity');

SELECT * FROM finish();

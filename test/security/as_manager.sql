-- Run as sp_manager (level rep, the login of rep 205 Mia, manager of region
-- East): the rows of every rep who is a member today of East or a unit below
-- it (Eve 201, Finn 202, Gus 203 and Mia herself), the counters and targets
-- of those units, and nothing else: not Hal (204, team West), not Ned's rows
-- (206 left East 1 for West on 2026-05-10), not the company target.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
SET client_min_messages = warning;

SELECT plan(21);

SELECT is((SELECT pg_catalog.array_agg(DISTINCT a.rep_id) FROM salesperf.activity a),
          '{201,202,203,205}'::bigint[], 'activity: exactly the reps of the subtree today');
SELECT is((SELECT count(*) FROM salesperf.activity a WHERE a.rep_id IN (204, 206)), 0::bigint,
          'activity: not a rep outside the subtree, nor one who left it');
SELECT is((SELECT pg_catalog.array_agg(DISTINCT o.rep_id) FROM salesperf.opportunity o),
          '{201,203}'::bigint[], 'opportunity: the subtree''s only');
SELECT is((SELECT pg_catalog.array_agg(DISTINCT t.scope || ':' || t.scope_id) FROM salesperf.target t),
          '{rep:201,unit:31}'::text[], 'target: the subtree''s rep and unit targets, not West''s nor the company''s');
SELECT is((SELECT pg_catalog.array_agg(DISTINCT c.rep_id) FROM salesperf.kpi_counter c),
          '{201,202,203,205,206}'::bigint[], 'kpi_counter: the subtree''s reps and the counters attributed to its units');
SELECT is((SELECT pg_catalog.array_agg(DISTINCT c.unit_id) FROM salesperf.kpi_counter c WHERE c.rep_id = 206),
          '{31}'::bigint[], 'kpi_counter: of a rep who left, only what counted for the subtree');
SELECT is((SELECT pg_catalog.array_agg(DISTINCT p.rep_id) FROM salesperf.commission_paid p), '{201}'::bigint[],
          'commission_paid: the subtree''s statement lines only');
SELECT is((SELECT pg_catalog.array_agg(DISTINCT p.rep_id) FROM salesperf.plan_assignment p), '{201}'::bigint[],
          'plan_assignment: the subtree''s only');
SELECT is((SELECT pg_catalog.array_agg(DISTINCT s.rep_id) FROM salesperf.scored_activity s),
          '{201,202,203,205}'::bigint[], 'scored_activity: the subtree''s reps');
SELECT is((SELECT count(*) FROM salesperf.target_progress_at('2026-05-15 12:00+00') p
            WHERE p.scope_id IN (204, 40) OR p.scope_id = 31 AND p.target <> 20), 0::bigint,
          'target_progress_at: nothing of West nor of Hal, and East 1''s own target');
SELECT ok((SELECT pg_catalog.array_agg(p.scope || ':' || p.scope_id) FROM salesperf.target_progress_at('2026-05-15 12:00+00') p
            WHERE p.kpi = 'calls') @> '{rep:201,unit:31}'::text[],
          'target_progress_at: the subtree''s targets are there');
SELECT is((SELECT p.actual FROM salesperf.target_progress_at('2026-05-15 12:00+00', 'unit', 31) p
            WHERE p.kpi = 'calls'), 7::numeric,
          'target_progress_at: East 1 made 7 calls (Eve 2, Finn 1, Gus 3 below, Ned 1 before he left)');

-- KPIs of the subtree are whole; outside it, nothing.
SELECT is(salesperf.kpi_value('calls', 'unit', 30, 'month', '2026-05-15 12:00+00'), 8::numeric,
          'kpi_value of the region: every call counted for it (Mia 1 + East 1''s 7)');
SELECT is(salesperf.kpi_value('calls', 'unit', 32, 'month', '2026-05-15 12:00+00'), 3::numeric,
          'kpi_value of a team two levels down');
SELECT is(salesperf.kpi_value('calls', 'rep', 203, 'month', '2026-05-15 12:00+00'), 3::numeric,
          'kpi_value of a rep of the subtree');
SELECT is(salesperf.kpi_value('calls', 'rep', 204, 'month', '2026-05-15 12:00+00'), 0::numeric,
          'kpi_value of a rep outside: nothing of it');
SELECT is(salesperf.kpi_value('calls', 'unit', 40, 'month', '2026-05-15 12:00+00'), 0::numeric,
          'kpi_value of a team outside: nothing of it');
SELECT is((SELECT pg_catalog.array_agg(s.rep_id) FROM salesperf.commission_statement('quarter', '2025-10-01 00:00+00') s),
          '{201}'::bigint[], 'commission_statement: the subtree''s lines only');
SELECT is((SELECT count(*) FROM salesperf.commission_statement('quarter', '2025-10-01 00:00+00', 204)), 0::bigint,
          'commission_statement of a rep outside: nothing');

-- Managing is reading: no writes.
SELECT throws_ok($$INSERT INTO salesperf.activity (rep_id, kind, amount) VALUES (201, 'call', 1)$$, '42501', NULL,
                 'manager cannot write the ledger of the subtree');
SELECT throws_ok($$SELECT salesperf.set_target('calls', 'rep', 201, 'month', '2026-03-01 00:00+00', 1)$$, '42501', NULL,
                 'manager cannot set targets');

SELECT * FROM finish();

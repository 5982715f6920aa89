-- Run as sp_rep (level rep, the login of rep 201 Eve in team East 1): the
-- public boards, contests, badges and the achievement board; its own rows
-- and nothing of any other rep (Finn 202 is a teammate, Hal 204 is in
-- another team) through any table, view or function; no writes.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
SET client_min_messages = warning;

SELECT plan(51);

-- Public: boards, the achievement board, badges, rewards, contests.
SELECT ok((SELECT count(*) FROM salesperf.leaderboard_top('calls_month', 10, '2026-03-15 12:00+00')) >= 3,
          'rep reads a board');
SELECT is((SELECT participants FROM salesperf.leaderboard_rank('calls_month', 103, '2026-03-15 12:00+00')),
          (SELECT count(*) FROM salesperf.leaderboard_top('calls_month', 1000, '2026-03-15 12:00+00')),
          'rep reads a rank ("rank r of n")');
SELECT ok((SELECT count(*) FROM salesperf.leaderboard_top('calls_month', 1000, '2026-03-15 12:00+00') t
            WHERE t.participant_id IN (102, 103)) = 2,
          'the board shows other reps: boards are public');
SELECT ok((SELECT pg_catalog.array_agg(b.rep_id ORDER BY b.rep_id) FROM salesperf.achievement_board b)
          @> '{201,202,203,204,205,206}',
          'the achievement board lists every rep');
SELECT lives_ok($$SELECT count(*) FROM salesperf.badge_award, salesperf.reward_grant, salesperf.contest_result,
                                       salesperf.contest, salesperf.badge, salesperf.reward$$,
                'rep reads badges, rewards and contests');

-- Own rows only, table by table.
SELECT is((SELECT pg_catalog.array_agg(DISTINCT a.rep_id) FROM salesperf.activity a), '{201}'::bigint[],
          'activity: own rows only');
SELECT is((SELECT count(*) FROM salesperf.activity a WHERE a.source = 'rls'), 5::bigint, 'activity: all five of its own seeded rows');
SELECT is((SELECT count(*) FROM salesperf.activity a WHERE a.rep_id = 204), 0::bigint,
          'activity: another rep''s rows are not there even when asked for');
SELECT is((SELECT pg_catalog.array_agg(DISTINCT o.rep_id) FROM salesperf.opportunity o), '{201}'::bigint[],
          'opportunity: own rows only');
SELECT is((SELECT pg_catalog.array_agg(DISTINCT t.scope || ':' || t.scope_id) FROM salesperf.target t), '{rep:201}'::text[],
          'target: its own target only (no other rep, unit or company target)');
SELECT is((SELECT pg_catalog.array_agg(DISTINCT c.rep_id) FROM salesperf.kpi_counter c), '{201}'::bigint[],
          'kpi_counter: own rows only');
SELECT is((SELECT count(*) FROM salesperf.capped_award c WHERE c.rep_id <> 201), 0::bigint,
          'capped_award: no other rep');
SELECT is((SELECT count(*) FROM salesperf.target_achieved t WHERE t.rep_id <> 201), 0::bigint,
          'target_achieved: no other rep');
SELECT is((SELECT pg_catalog.array_agg(DISTINCT p.rep_id) FROM salesperf.plan_assignment p), '{201}'::bigint[],
          'plan_assignment: own rows only');
SELECT is((SELECT pg_catalog.array_agg(DISTINCT p.rep_id) FROM salesperf.commission_paid p), '{201}'::bigint[],
          'commission_paid: own statement lines only');
SELECT is((SELECT count(*) FROM salesperf.commission_adjustment a WHERE a.rep_id <> 201), 0::bigint,
          'commission_adjustment: no other rep');

-- Views.
SELECT is((SELECT pg_catalog.array_agg(DISTINCT s.rep_id) FROM salesperf.scored_activity s), '{201}'::bigint[],
          'scored_activity: own rows only');
SELECT is((SELECT pg_catalog.array_agg(p.scope || ':' || p.scope_id) FROM salesperf.target_progress p
            WHERE p.scope = 'rep'),
          '{rep:201}'::text[], 'target_progress: its own rep target only');
SELECT is((SELECT pg_catalog.array_agg(DISTINCT p.target) FROM salesperf.target_progress p),
          '{5}'::numeric[], 'target_progress: the units above sum its own target only (Hal''s 5 is not in them)');
SELECT throws_ok($$SELECT count(*) FROM salesperf.scoreboard$$, '42501', NULL, 'rep cannot read the scoreboard');
SELECT throws_ok($$SELECT count(*) FROM salesperf.kpi_report$$, '42501', NULL, 'rep cannot read the KPI report');
SELECT throws_ok($$SELECT count(*) FROM salesperf.board_contribution$$, '42501', NULL,
                 'rep cannot read board contributions');

-- Functions answer from the rows the caller sees.
SELECT is(salesperf.kpi_value('calls', 'rep', 201, 'month', '2026-05-15 12:00+00'), 2::numeric,
          'kpi_value of its own calls');
SELECT is(salesperf.kpi_value('revenue', 'rep', 201, 'month', '2026-05-15 12:00+00'), 1000::numeric,
          'kpi_value of its own revenue');
SELECT is(salesperf.kpi_value('calls', 'rep', 204, 'month', '2026-05-15 12:00+00'), 0::numeric,
          'kpi_value of another rep: nothing of it (0 from the visible rows)');
SELECT is(salesperf.kpi_value('calls', 'rep', 202, 'month', '2026-05-15 12:00+00'), 0::numeric,
          'kpi_value of a teammate: nothing of it');
SELECT is(salesperf.kpi_value('calls', 'unit', 40, 'month', '2026-05-15 12:00+00'), 0::numeric,
          'kpi_value of another team: nothing of it');
SELECT is(salesperf.kpi_value('calls', 'company', NULL, 'month', '2026-05-15 12:00+00'), 2::numeric,
          'kpi_value of the company: its own share only');
SELECT is((SELECT count(*) FROM salesperf.target_progress_at('2026-05-15 12:00+00', 'rep', 204)), 0::bigint,
          'target_progress_at for another rep: nothing');
SELECT is((SELECT p.actual FROM salesperf.target_progress_at('2026-05-15 12:00+00', 'rep', 201) p
            WHERE p.kpi = 'calls'), 2::numeric,
          'target_progress_at: its own progress');
SELECT is((SELECT pg_catalog.array_agg(s.rep_id) FROM salesperf.commission_statement('quarter', '2025-10-01 00:00+00') s),
          '{201}'::bigint[], 'commission_statement of a closed month: its own line only');
SELECT is((SELECT s.total FROM salesperf.commission_statement('quarter', '2025-10-01 00:00+00', 201) s),
          80::numeric, 'its own closed statement: 10 % of 800 (Q4 2025)');
SELECT is((SELECT count(*) FROM salesperf.commission_statement('quarter', '2025-10-01 00:00+00', 204)), 0::bigint,
          'commission_statement for another rep: nothing');
SELECT is((SELECT pg_catalog.array_agg(s.rep_id) FROM salesperf.commission_statement('quarter', '2026-04-01 00:00+00') s),
          '{201}'::bigint[], 'commission_statement of the open month: its own line only');
-- Her open May statement counts the whole team, not just the rows she
-- sees: individual 1,000 x 0.5 x 2/10 = 100; team 1,000 x 0.5 x 7/20 = 175.
SELECT is((SELECT s.total FROM salesperf.commission_statement('month', '2026-05-01 00:00+00', 201) s),
          275::numeric, 'her open statement''s team part counts the whole team (7 calls against 20)');
SELECT is((SELECT count(*) FROM salesperf.commission_adjustments('quarter', '2026-01-01 00:00+00') a
            WHERE a.rep_id <> 201), 0::bigint,
          'commission_adjustments: no other rep');
SELECT is((SELECT pg_catalog.sum(a.amount) FROM salesperf.commission_adjustments('quarter', '2026-01-01 00:00+00', 201) a),
          10::numeric, 'commission_adjustments: its own late deal (10 % of 100)');

-- No writes: not the ledger, not derived tables, not points.
SELECT throws_ok($$INSERT INTO salesperf.activity (rep_id, kind, amount) VALUES (201, 'bonus', 1000)$$, '42501', NULL,
                 'rep cannot award itself points through the ledger');
SELECT throws_ok($$SELECT salesperf.record(201, 'bonus', 1000)$$, '42501', NULL, 'rep cannot record activities');
SELECT throws_ok($$UPDATE salesperf.activity SET amount = amount * 10 WHERE rep_id = 201$$, '42501', NULL,
                 'rep cannot change its own activities');
SELECT throws_ok($$UPDATE salesperf.kpi_counter SET points = points + 100$$, '42501', NULL,
                 'rep cannot change counters');
SELECT throws_ok($$UPDATE salesperf.standing SET num = num + 100$$, '42501', NULL, 'rep cannot change standings');
SELECT throws_ok($$INSERT INTO salesperf.badge_award (badge_id, rep_id, reason) SELECT b.badge_id, 201, 'me' FROM salesperf.badge b$$,
                 '42501', NULL, 'rep cannot award itself a badge');
SELECT throws_ok($$UPDATE salesperf.point_rule SET points = 100$$, '42501', NULL, 'rep cannot change a rule');

SELECT throws_ok($$SELECT salesperf.upsert_opportunity('rep', 'x', 201, 1000000, 'closed_won', '2026-05-01')$$, '42501', NULL,
                 'rep cannot win itself a deal');

-- The only code a rep may run with the owner's rights returns public
-- results: no SECURITY DEFINER function it can execute reads its rows for it.
SELECT is((SELECT pg_catalog.array_agg(p.proname::text ORDER BY p.proname)
             FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = 'salesperf'::regnamespace AND p.prosecdef
              AND pg_catalog.has_function_privilege(p.oid, 'EXECUTE')),
          '{achievement_board_at,board_unassigned,commission_team_value,contest_standings,unit_target}'::text[],
          'the SECURITY DEFINER functions a rep may call are the achievement board, contest standings, a board''s participant count and the two team aggregates of a commission statement');

-- No admin function.
SELECT throws_ok($$SELECT salesperf.create_leaderboard('rep_board', 'points')$$, '42501', NULL,
                 'rep cannot create a board');
SELECT throws_ok($$SELECT salesperf.recompute()$$, '42501', NULL, 'rep cannot recompute');
SELECT throws_ok($$SELECT salesperf.close_commission_period('2026-03-01 00:00+00')$$, '42501', NULL,
                 'rep cannot close a commission period');
SELECT throws_ok($$SELECT salesperf.set_target('calls', 'rep', 201, 'month', '2026-03-01 00:00+00', 1)$$, '42501', NULL,
                 'rep cannot set its own target');
SELECT throws_ok($$SELECT salesperf.grant_access('sp_rep', 'reader')$$, '42501', NULL,
                 'rep cannot raise its own level');

SELECT * FROM finish();

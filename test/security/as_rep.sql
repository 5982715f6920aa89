-- Run as sp_rep (level rep): the public boards, nothing else yet
-- (row-level access to one's own data comes with row-level security).
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
SET client_min_messages = warning;

SELECT plan(10);

SELECT ok((SELECT count(*) FROM salesperf.leaderboard_top('calls_month', 10, '2026-03-15 12:00+00')) >= 3,
          'rep reads a board');
SELECT is((SELECT participants FROM salesperf.leaderboard_rank('calls_month', 103, '2026-03-15 12:00+00')),
          (SELECT count(*) FROM salesperf.leaderboard_top('calls_month', 1000, '2026-03-15 12:00+00')),
          'rep reads a rank ("rank r of n")');
SELECT throws_ok($$SELECT count(*) FROM salesperf.activity$$, '42501', NULL, 'rep cannot read the ledger');
SELECT throws_ok($$SELECT count(*) FROM salesperf.kpi_counter$$, '42501', NULL, 'rep cannot read counters');
SELECT throws_ok($$SELECT count(*) FROM salesperf.opportunity$$, '42501', NULL, 'rep cannot read opportunities');
SELECT throws_ok($$SELECT salesperf.kpi_value('calls', 'rep', 103, 'month')$$, '42501', NULL,
                 'rep cannot call kpi_value() yet');
SELECT throws_ok($$SELECT salesperf.record(103, 'bonus', 1000)$$, '42501', NULL, 'rep cannot record activities');
SELECT throws_ok($$UPDATE salesperf.point_rule SET points = 100$$, '42501', NULL, 'rep cannot change a rule');
SELECT throws_ok($$UPDATE salesperf.standing SET num = num + 100$$, '42501', NULL, 'rep cannot change standings');
SELECT throws_ok($$SELECT salesperf.create_leaderboard('rep_board', 'points')$$, '42501', NULL,
                 'rep cannot create a board');

SELECT * FROM finish();

-- KPI definitions and values, leaderboard participants and ordering, guards.
BEGIN;
SELECT plan(38);

INSERT INTO salesperf.rep (rep_id, name) VALUES (1, 'Ada'), (2, 'Bo'), (3, 'Cy'), (4, 'Di'), (5, 'Ed');
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
  (1, NULL, 'Co', 'company'), (10, 1, 'North', 'region'), (11, 10, 'N1', 'team'), (12, 10, 'N2', 'team'),
  (20, 1, 'South', 'region'), (21, 20, 'S1', 'team');
SELECT salesperf.assign(1, 11, '2026-01-01'), salesperf.assign(2, 12, '2026-01-01'),
       salesperf.assign(3, 21, '2026-01-01'), salesperf.assign(4, 21, '2026-01-01'),
       salesperf.assign(5, 11, '2026-01-01');

-- define_kpi
SELECT is(salesperf.define_kpi('avg_call', 'call', 'avg', unit => 'seconds'), 'avg_call', 'define an avg KPI');
SELECT is(salesperf.define_kpi('won_per_call', measure => 'ratio', numerator => 'deals_won', denominator => 'calls'),
          'won_per_call', 'define a ratio KPI');
SELECT is(salesperf.define_kpi('slow_replies', 'message', 'sum', higher_is_better => false), 'slow_replies',
          'define a lower-is-better KPI');
SELECT throws_ok($$SELECT salesperf.define_kpi('calls', 'call')$$, '42710', NULL, 'existing KPI name');
SELECT throws_ok($$SELECT salesperf.define_kpi('x', 'nope')$$, '42704', NULL, 'unknown kind');
SELECT throws_ok($$SELECT salesperf.define_kpi('x', 'call', 'median')$$, '22023', NULL, 'unknown measure');
SELECT throws_ok($$SELECT salesperf.define_kpi('x', measure => 'sum')$$, '22004', NULL, 'sum needs a kind');
SELECT throws_ok($$SELECT salesperf.define_kpi('x', measure => 'ratio', numerator => 'calls')$$, '22004', NULL,
                 'ratio needs both parts');
SELECT throws_ok($$SELECT salesperf.define_kpi('x', measure => 'ratio', numerator => 'calls', denominator => 'nope')$$,
                 '42704', NULL, 'unknown denominator');
SELECT throws_ok($$SELECT salesperf.define_kpi('x', measure => 'ratio', numerator => 'calls', denominator => 'avg_call')$$,
                 '22023', NULL, 'ratio of an avg is refused');
SELECT throws_ok($$SELECT salesperf.define_kpi('Bad Name', 'call')$$, '22023', NULL, 'bad KPI name');

-- Empty values: count 0, sum 0, avg NULL, ratio with zero denominator NULL.
SELECT is(salesperf.kpi_value('calls', 'rep', 1, 'month', '2026-11-10'), 0::numeric, 'empty count is 0');
SELECT is(salesperf.kpi_value('revenue', 'rep', 1, 'month', '2026-11-10'), 0::numeric, 'empty sum is 0');
SELECT is(salesperf.kpi_value('avg_call', 'rep', 1, 'month', '2026-11-10'), NULL::numeric, 'empty avg is NULL');
SELECT is(salesperf.kpi_value('conversion_rate', 'rep', 1, 'month', '2026-11-10'), NULL::numeric,
          'ratio with zero denominator is NULL');

INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) VALUES
  (1, 'call', 100, '2026-11-02 10:00'), (1, 'call', 200, '2026-11-02 11:00'), (1, 'call', 0, '2026-11-03 10:00'),
  (1, 'lead_created', 1, '2026-11-02'), (1, 'lead_created', 1, '2026-11-03'), (1, 'lead_created', 1, '2026-11-04'),
  (1, 'lead_converted', 1, '2026-11-05'),
  (2, 'lead_created', 1, '2026-11-02'), (2, 'lead_converted', 1, '2026-11-02'), (2, 'lead_converted', 1, '2026-11-03'),
  (2, 'deal_won', 1000, '2026-11-04'), (3, 'message', 30, '2026-11-04'), (4, 'message', 10, '2026-11-04'),
  (4, 'message', 5, '2026-11-05');

SELECT is(salesperf.kpi_value('calls', 'rep', 1, 'month', '2026-11-10'), 3::numeric,
          'a count counts activities whatever their amount (a 0-second call counts)');
SELECT is(salesperf.kpi_value('avg_call', 'rep', 1, 'month', '2026-11-10'), 100::numeric, 'avg = 300 / 3');
-- Ratio from its parts: North = (1 + 2) / (3 + 1) = 0.75, not the mean of 1/3 and 2/1.
SELECT is(salesperf.kpi_value('conversion_rate', 'unit', 10, 'month', '2026-11-10'), 0.75, 'ratio from its parts');
SELECT is(salesperf.kpi_value('conversion_rate', 'company', NULL, 'month', '2026-11-10'), 0.75, 'company ratio');
SELECT is(round(salesperf.kpi_value('won_per_call', 'unit', 1, 'month', '2026-11-10'), 4), 0.3333,
          'custom ratio over the company');
SELECT is(salesperf.kpi_value('calls', 'unit', 20, 'month', '2026-11-10'), 0::numeric, 'unit subtree without calls');
SELECT is(salesperf.kpi_value('calls', 'rep', 1, 'day', '2026-11-02 12:00'), 2::numeric, 'a day');

-- Boards: lower is better ranks ascending; zero scorers tie; inactive reps leave.
SELECT ok(salesperf.create_leaderboard('fast replies', metric => 'slow_replies') > 0, 'board on a lower-is-better KPI');
SELECT results_eq($$SELECT participant_id, rank FROM salesperf.leaderboard_top('fast replies', 10, '2026-11-10')
                     WHERE participant_id IN (3, 4) ORDER BY rank$$,
                  $$VALUES (4::bigint, 4::bigint), (3::bigint, 5::bigint)$$,
                  'lower is better: 15 (Di) ranks after the three zeros but before 30 (Cy)');
SELECT ok(salesperf.create_leaderboard('calls', metric => 'calls') > 0, 'calls board');
SELECT results_eq($$SELECT rank, participant_id FROM salesperf.leaderboard_top('calls', 10, '2026-11-10')$$,
                  $$VALUES (1::bigint, 1::bigint), (2::bigint, 2::bigint), (2::bigint, 3::bigint),
                           (2::bigint, 4::bigint), (2::bigint, 5::bigint)$$,
                  'zero scorers share rank 2, listed by id');
SELECT results_eq($$SELECT * FROM salesperf.leaderboard_rank('calls', 5, '2026-11-10')$$,
                  $$VALUES (2::bigint, 0::numeric, 5::bigint)$$, 'rank 2 of 5 with nothing recorded');
UPDATE salesperf.rep SET active = false WHERE rep_id = 5;
SELECT is((SELECT count(*)::int FROM salesperf.leaderboard_top('calls', 10, '2026-11-10')), 4,
          'an inactive rep leaves the board');
SELECT is((SELECT count(*)::int FROM salesperf.leaderboard_rank('calls', 5, '2026-11-10')), 0,
          'an inactive rep has no rank');
SELECT ok(salesperf.create_leaderboard('south calls', metric => 'calls', unit_scope => 20) > 0, 'scoped board');
SELECT results_eq($$SELECT participant_id FROM salesperf.leaderboard_top('south calls', 10, '2026-11-10')$$,
                  $$VALUES (3::bigint), (4::bigint)$$, 'a scoped board lists the scope''s reps only');
SELECT ok(salesperf.create_leaderboard('regions', metric => 'leads_generated', participant => 'unit',
                                       unit_kind => 'region') > 0, 'region board');
SELECT results_eq($$SELECT participant_id, score FROM salesperf.leaderboard_top('regions', 10, '2026-11-10')$$,
                  $$VALUES (10::bigint, 4::numeric), (20::bigint, 0::numeric)$$, 'regions score their subtrees');
SELECT ok(salesperf.create_leaderboard('all time', period => 'all') > 0, 'all-time board');
SELECT is((SELECT count(*)::int FROM salesperf.leaderboard_top('all time', 10, '2026-11-10') WHERE previous_rank IS NOT NULL),
          0, 'an all-time board has no previous period');

-- Guards: history keeps its reps and kinds.
SELECT throws_ok($$DELETE FROM salesperf.rep WHERE rep_id = 1$$, '23503', NULL, 'a rep with activities stays');
SELECT throws_ok($$DELETE FROM salesperf.activity_kind WHERE kind = 'call'$$, '23503', NULL, 'a kind in use stays');
TRUNCATE salesperf.activity;
SELECT is((SELECT count(*)::int FROM salesperf.kpi_counter) + (SELECT count(*)::int FROM salesperf.standing), 0,
          'TRUNCATE of the ledger empties derived state');

SELECT * FROM finish();
ROLLBACK;
